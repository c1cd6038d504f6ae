using FlashSale.Engine.Kafka;
using FlashSale.Engine.Redis;
using FlashSale.Tests.Infrastructure;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace FlashSale.Tests.Reservations;

/// <summary>
/// reserve-many.lua decides a batch exactly as the same requests would be decided one after another: for random
/// request sequences (one buyer twice, replays of orders from before and from within the batch, a key reused with
/// another quantity, per-buyer limits, stock running out mid-batch), the outcomes, stock, ledger, idempotency and
/// per-buyer data (timestamps aside) and the set of events on the outbox are the same.
/// </summary>
[Collection(IngressCollection.Name)]
[Trait("Cluster", "yes")]
public sealed class BatchEquivalenceTests(IngressFactory factory)
{
    private SkuScripts Scripts => factory.Services.GetRequiredService<SkuScripts>();

    private IDatabase Db => factory.Db;

    /// <summary>
    /// A buyer's request: four buyers and six keys, so collisions are frequent, and limits and stock high enough that a
    /// buyer sometimes makes more orders than their field folds (BuyerRecord.Folded), the rest going to the idempotency hash.
    /// </summary>
    private sealed record Step(int User, int Key, int Quantity);

    private sealed record Case(int Stock, int Limit, Step[] Before, Step[] Batch);

    [Fact]
    public void ABatchDecidesAsTheSameRequestsOneByOne()
    {
        var step = from user in Gen.Choose(1, 4)
                   from key in Gen.Choose(1, 6)
                   from quantity in Gen.Choose(1, 3)
                   select new Step(user, key, quantity);
        var cases = from stock in Gen.Choose(0, 16)
                    from limit in Gen.Choose(1, 8)
                    from before in Gen.ArrayOf(step).Resize(4)
                    from batch in Gen.ArrayOf(step).Resize(24)
                    select new Case(stock, limit, before, batch);

        Prop.ForAll(cases.ToArbitrary(), c => SameOutcomesAsync(c).GetAwaiter().GetResult())
            .Check(Config.QuickThrowOnFailure.WithMaxTest(60));
    }

    private async Task<bool> SameOutcomesAsync(Case c)
    {
        var one = await StartAsync(c);
        var many = await StartAsync(c);
        var orderNo = 9_000_000_000_000L + Random.Shared.NextInt64(1_000_000_000L) * 1_000;
        var requests = c.Batch.Select((s, i) => new BatchRequest(s.User, $"k{s.Key}", s.Quantity, orderNo + 100 + i)).ToArray();
        var before = c.Before.Select((s, i) => new BatchRequest(s.User, $"k{s.Key}", s.Quantity, orderNo + i)).ToArray();
        foreach (var sku in new[] { one, many })
        {
            foreach (var request in before)
            {
                await Scripts.ReserveManyAsync(Db, SkuScripts.ReserveKeys(sku), sku, [request], default);
            }
        }

        var alone = new List<ReserveReply>();
        foreach (var request in requests)
        {
            alone.Add(Assert.Single((await Scripts.ReserveManyAsync(Db, SkuScripts.ReserveKeys(one), one, [request], default)).Replies));
        }
        var together = requests.Length == 0 ? [] : (await Scripts.ReserveManyAsync(Db, SkuScripts.ReserveKeys(many), many, requests, default)).Replies;

        Assert.Equal(alone.Select(Outcome), together.Select(Outcome));
        Assert.Equal(await StateAsync(one), await StateAsync(many));
        Assert.Equal(await EventsAsync(one), await EventsAsync(many));
        // One DEL per SKU: on a Redis Cluster a command's keys must share a slot, and each SKU has its own.
        await Db.KeyDeleteAsync(await LedgerLayout.AllKeysAsync(Db, one));
        await Db.KeyDeleteAsync(await LedgerLayout.AllKeysAsync(Db, many));
        return true;
    }

    private async Task<SkuKeys> StartAsync(Case c)
    {
        var sku = new SkuKeys("prop-" + Guid.NewGuid().ToString("N")[..12], 1);
        var now = DateTimeOffset.UtcNow;
        await Scripts.WarmupAsync(Db, sku, new SkuLoad(c.Stock, now.AddMinutes(-1).ToUnixTimeMilliseconds(), now.AddHours(1).ToUnixTimeMilliseconds(),
            c.Limit, 1_999, 900), force: false);
        return sku;
    }

    /// <summary>
    /// What a buyer is told, without the decision's time; a replay's outbox id only says whether the event is pending.
    /// A created order's sequence is its own; a refusal's or replay's is Redis's at the reply (after the whole batch), which
    /// only raises what the caller has seen, so it is left out.
    /// </summary>
    private static string Outcome(ReserveReply r)
        => $"{r.Code}:{r.OrderNo}:{r.Record.UserId}:{r.Record.Quantity}:{r.Record.AmountMinor}:{r.Record.State}:{(r.Code == ScriptCode.Done ? r.Sequence : 0)}:{r.OutboxId is not null}";

    private async Task<string> StateAsync(SkuKeys sku)
    {
        var meta = await Db.HashGetAsync(sku.Meta, ["available", "seq", "fenced"]);
        var ledger = (await RedisLedger.AllAsync(Db, sku))
            .Select(e => (Order: e.Name.ToString(), Record: LedgerRecord.Parse(e.Value.ToString())))
            .Select(e => $"{e.Order}={e.Record.UserId}|{e.Record.Quantity}|{e.Record.AmountMinor}|{e.Record.State}");
        var users = (await Db.HashGetAllAsync(sku.Users)).Select(e => $"{e.Name}={e.Value}");
        var idempotency = (await Db.HashGetAllAsync(sku.Idempotency)).Select(e => $"{e.Name}={e.Value}");
        var pending = (await Db.HashKeysAsync(sku.Pending)).Select(k => k.ToString());
        return string.Join("\n", string.Join(",", meta), Sorted(ledger), Sorted(users), Sorted(idempotency), Sorted(pending));
    }

    /// <summary>Every event on the outbox, whichever entry carries it, without the decision's time.</summary>
    private async Task<string> EventsAsync(SkuKeys sku)
    {
        var events = (await Db.StreamRangeAsync(sku.Outbox))
            .SelectMany(e => ReservationRecords.Read(OutboxEntry.Read(e).Message))
            .Select(e => $"{e.OrderNo}|{e.UserId}|{e.CampaignId.Length}|{e.Quantity}|{e.AmountMinor}|{e.PaymentDeadlineMs - e.CreatedAtMs}|{e.Sequence}|{e.IdempotencyKey}");
        return Sorted(events);
    }

    private static string Sorted(IEnumerable<string> values) => string.Join(";", values.Order(StringComparer.Ordinal));
}
