using FlashSale.LoadTests.Scenarios;
using FlashSale.LoadTests.Scenarios.FullSale;
using Spectre.Console.Cli;

namespace FlashSale.LoadTests.Cli;

/// <summary>One scenario as a command: its name is the command's, its options the settings type's.</summary>
public abstract class ScenarioCommand<TOptions> : AsyncCommand<TOptions> where TOptions : LoadTestOptions
{
    protected abstract IScenario Create(TOptions options);

    public override Task<int> ExecuteAsync(CommandContext context, TOptions settings, CancellationToken cancellationToken)
    {
        settings.Scenario = context.Name;
        return LoadTestRunner.RunAsync(settings, Create(settings), cancellationToken);
    }
}

public sealed class HotSkuCommand : ScenarioCommand<HotSkuOptions>
{
    public const string Description = "One SKU (default stock 5000), buyers drawn at random from a pool (default 100000), or in turn; every request a new Idempotency-Key.";

    protected override IScenario Create(HotSkuOptions options) => new HotSkuScenario(
        options.Stock ?? HotSkuScenario.DefaultStock, options.Buyers ?? HotSkuScenario.DefaultBuyers, options.Seed, options.BuyersInTurn);
}

public sealed class SoldOutFloodCommand : ScenarioCommand<LoadTestOptions>
{
    public const string Description = "Small stock (default 100), buyers taken in turn from a pool (default 100000): most requests arrive after sell-out.";

    protected override IScenario Create(LoadTestOptions options)
        => new SoldOutFloodScenario(options.Stock ?? SoldOutFloodScenario.DefaultStock, options.Buyers ?? SoldOutFloodScenario.DefaultBuyers);
}

public sealed class ManySkusCommand : ScenarioCommand<ManySkusOptions>
{
    public const string Description = "One campaign with --skus SKUs (stock 250 each by default), traffic spread over them, skewed by --skew; buyers at random, one unit per SKU each.";

    protected override IScenario Create(ManySkusOptions options) => new ManySkusScenario(
        options.Skus, options.Stock ?? ManySkusScenario.DefaultStockPerSku, options.Buyers ?? ManySkusScenario.DefaultBuyers, options.Skew, options.Seed);
}

public sealed class ReplayStormCommand : ScenarioCommand<ReplayStormOptions>
{
    public const string Description = "Buyers (default 500) resend their own --keys-per-buyer Idempotency-Keys again and again; stock half the keys. Every replay must return its key's first answer.";

    protected override IScenario Create(ReplayStormOptions options)
        => new ReplayStormScenario(options.Buyers ?? ReplayStormScenario.DefaultBuyers, options.KeysPerBuyer, options.Stock, options.Seed);
}

public sealed class FullSaleCommand : ScenarioCommand<FullSaleOptions>
{
    public const string Description = "A whole sale with a short payment window (default stock 200): orders are paid (signed callbacks, some sent twice), "
        + "cancelled, or left to time out; a second wave after the timeouts buys what came back.";

    protected override IScenario Create(FullSaleOptions options) => new FullSaleScenario(new FullSaleSettings(
        options.Stock ?? FullSaleScenario.DefaultStock, options.Buyers ?? FullSaleScenario.DefaultBuyers,
        options.PayShare, options.CancelShare, options.DuplicateShare, options.PaymentWindowSeconds,
        options.ThinkTime, options.SecondWave, options.SettleTimeout, options.Seed, options.CouponShare, options.Coupons));
}

public sealed class WaitingRoomCommand : ScenarioCommand<WaitingRoomOptions>
{
    public const string Description = "A sale behind a waiting room: a crowd (--buyers, default 20x the stock of 100) joins before the start, polls, "
        + "reserves when admitted; reports time to admission and how long the last waiting buyer took to learn it was sold out.";

    protected override IScenario Create(WaitingRoomOptions options) => new WaitingRoomScenario(
        options.Stock ?? WaitingRoomScenario.DefaultStock, options.Buyers, options.AdmitFactor, options.TokenSeconds, options.Lead,
        options.Concurrency, options.Duration, options.Seed);
}
