using System.Globalization;
using System.Text.Json;
using FlashSale.Contracts;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Coupons;
using FlashSale.Engine.Reconciliation;
using FlashSale.Ingress.Admission;
using FlashSale.Ingress.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace FlashSale.Ingress.Campaigns;

internal static class CampaignsApi
{
    public static RouteGroupBuilder MapCampaignAdminApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(ApiRoutes.AdminCampaigns)
            .WithTags("Campaign admin")
            .RequireAuthorization(AuthSetup.AdminPolicy);
        group.MapPost("/", Create).Accepts<CampaignBody>("application/json");
        group.MapGet("/", List);
        group.MapGet("/{campaignId}", Get);
        group.MapPost("/{campaignId}/warmup", Warmup);
        group.MapGet("/{campaignId}/skus/{skuId:long}/ledger", Ledger);
        group.MapGet("/{campaignId}/coupons/{couponId}/ledger", CouponLedger)
            .WithName("CouponLedger")
            .Produces<CouponLedgerView>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{campaignId}/reconcile", Reconcile);
        return group;
    }

    public static RouteGroupBuilder MapCampaignsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(ApiRoutes.Campaigns).WithTags("Campaigns");
        group.MapGet("/{campaignId}/skus/{skuId:long}", GetSku).AllowAnonymous();
        group.MapGet("/{campaignId}/coupons/{couponId}", GetCoupon).AllowAnonymous()
            .WithName("GetCoupon")
            .Produces<CouponStockView>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    public static async Task<Results<Created<CampaignView>, Ok<CampaignView>, ValidationProblem, ProblemHttpResult>> Create(
        HttpRequest request, CampaignStore campaigns, StockService stock, CouponStockService coupons, CampaignLimitOverrides overrides,
        IOptions<CampaignOptions> options, CancellationToken cancellationToken)
    {
        CampaignBody? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync(request.Body, IngressJson.Default.CampaignBody, cancellationToken);
        }
        catch (JsonException ex)
        {
            var (field, detail) = JsonBodies.Describe(ex);
            return Problems.BadRequest(ProblemTypes.InvalidBody, field, $"The body is not a valid campaign definition. {detail}");
        }

        var definition = body is null ? null : ToDefinition(body);
        var errors = CampaignValidator.Validate(definition, options.Value.MinPaymentWindowSeconds);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, type: Problems.Type(ProblemTypes.InvalidCampaign), title: "Invalid campaign definition");
        }

        definition = CampaignValidator.Normalize(definition!);
        var outcome = await campaigns.CreateAsync(definition, cancellationToken);
        if (outcome == CampaignCreateOutcome.Created && definition.RateLimits is not null)
        {
            // This Ingress applies them from the next request; the others when they next read the catalog.
            overrides.Set(definition.CampaignId, definition.RateLimits);
        }
        if (outcome == CampaignCreateOutcome.Conflict)
        {
            return Problems.Conflict(ProblemTypes.CampaignConflict, "Campaign exists",
                $"Campaign '{definition.CampaignId}' already exists with a different definition; definitions cannot change once created.");
        }

        var view = ToView(definition, await stock.ReadAsync(definition, cancellationToken), await coupons.ReadAsync(definition));
        return outcome == CampaignCreateOutcome.Created
            ? TypedResults.Created(ApiRoutes.AdminCampaignPath(definition.CampaignId), view)
            : TypedResults.Ok(view);
    }

    public static async Task<Results<Ok<CampaignView>, ProblemHttpResult>> Get(
        string campaignId, CampaignStore campaigns, StockService stock, CouponStockService coupons, CancellationToken cancellationToken)
    {
        var campaign = await FindAsync(campaignId, campaigns, cancellationToken);
        return campaign is null
            ? UnknownCampaign(campaignId)
            : TypedResults.Ok(ToView(campaign, await stock.ReadAsync(campaign, cancellationToken), await coupons.ReadAsync(campaign)));
    }

    /// <summary>Loads the stock into Redis. Refused with 409 when the campaign is already live, unless <c>?force=true</c>.</summary>
    public static async Task<Results<Ok<WarmupResponse>, ProblemHttpResult>> Warmup(
        string campaignId, bool? force, CampaignStore campaigns, StockService stock, CouponStockService coupons, CancellationToken cancellationToken)
    {
        var campaign = await FindAsync(campaignId, campaigns, cancellationToken);
        if (campaign is null)
        {
            return UnknownCampaign(campaignId);
        }

        var results = await stock.WarmAsync(campaign, force ?? false, cancellationToken: cancellationToken);
        var live = results.Where(r => r.Outcome == WarmupOutcome.AlreadyLive).Select(r => r.SkuId).ToList();
        if (live.Count > 0)
        {
            return Problems.Conflict(ProblemTypes.AlreadyLive, "Campaign already live",
                $"SKU(s) {string.Join(", ", live)} of '{campaignId}' are already live in Redis; loading again would sell their stock twice. "
                + "Use ?force=true to reload: stock becomes total minus the units already reserved.");
        }
        // The coupon pools go live with the stock (a pool live already keeps its count; ?force=true reloads it too).
        var pools = await coupons.WarmAsync(campaign, force ?? false);
        var livePools = pools.Where(p => p.Outcome == WarmupOutcome.AlreadyLive).Select(p => p.CouponId).ToList();
        if (livePools.Count > 0)
        {
            return Problems.Conflict(ProblemTypes.AlreadyLive, "Coupon pools already live",
                $"Coupon pool(s) {string.Join(", ", livePools)} of '{campaignId}' are already live in Redis; the SKUs were loaded, the pools left as they are. "
                + "Use ?force=true to reload them: available becomes total minus the coupons already locked or redeemed.");
        }
        return TypedResults.Ok(new WarmupResponse(campaignId, [.. results.Select(r => new SkuWarmupView(r.SkuId, r.Outcome, r.Available))],
            pools.Count == 0 ? null : [.. pools.Select(p => new CouponWarmupView(p.CouponId, p.Outcome, p.Available))]));
    }

    /// <summary>The campaigns, the latest to start first (at most <c>limit</c>, 1-1000, default 200).</summary>
    public static async Task<Results<Ok<IReadOnlyList<CampaignSummaryView>>, ProblemHttpResult>> List(
        int? limit, CampaignStore campaigns, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > 1_000)
        {
            return Problems.BadRequest(ProblemTypes.InvalidLimit, "limit must be between 1 and 1000.");
        }
        var list = await campaigns.ListAsync(limit ?? 200, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<CampaignSummaryView>>([.. list.Select(c => new CampaignSummaryView(
            c.CampaignId, c.StartsAt.UtcDateTime, c.EndsAt.UtcDateTime, c.PaymentWindowSeconds, c.SkuCount))]);
    }

    /// <summary>
    /// Checks every SKU of the campaign against MySQL, as <c>warmup reconcile</c> does (the same <see cref="Reconciler"/>), and
    /// with <c>?repair=true</c> repairs the drift and checks again. The answer is 200 whether or not drift remains: <c>drift</c> says.
    /// </summary>
    public static async Task<Results<Ok<ReconcileResponse>, ProblemHttpResult>> Reconcile(
        string campaignId, bool? repair, CampaignStore campaigns, Reconciler reconciler, CouponReconciler couponReconciler, CancellationToken cancellationToken)
    {
        var campaign = await FindAsync(campaignId, campaigns, cancellationToken);
        if (campaign is null)
        {
            return UnknownCampaign(campaignId);
        }
        var repairing = repair ?? false;
        var results = await reconciler.ReconcileAsync(campaign, repairing, cancellationToken: cancellationToken);
        var pools = campaign.CouponPools.Count == 0 ? [] : await couponReconciler.ReconcileAsync(campaign, repairing, cancellationToken);
        return TypedResults.Ok(new ReconcileResponse(campaign.CampaignId, repairing, results.Sum(r => r.After.Drift) + pools.Sum(p => p.After.Drift),
            [.. results.Select(r => new SkuReconcileView(r.After.SkuId, ToView(r.Before), r.Repairs, ToView(r.After)))],
            pools.Count == 0 ? null : [.. pools.Select(p => new CouponReconcileView(p.After.CouponId, ToView(p.Before), p.Repairs, ToView(p.After)))]));
    }

    /// <summary>The coupon pool's ledger, computed now from Redis and MySQL (read-only: repairs are the reconciler's).</summary>
    public static async Task<Results<Ok<CouponLedgerView>, ProblemHttpResult>> CouponLedger(
        string campaignId, string couponId, CouponReconciler reconciler, CancellationToken cancellationToken)
    {
        var ledger = CampaignValidator.IsValidCampaignId(campaignId) && CampaignValidator.IsValidCouponId(couponId)
            ? await reconciler.CheckAsync(campaignId, couponId, cancellationToken)
            : null;
        return ledger is null
            ? Problems.NotFound($"Campaign '{campaignId}' has no coupon pool '{couponId}'.")
            : TypedResults.Ok(ToView(ledger));
    }

    /// <summary>A coupon pool's public view: how many coupons it has in all and left, and its state.</summary>
    public static async Task<Results<Ok<CouponStockView>, ProblemHttpResult>> GetCoupon(
        string campaignId, string couponId, CampaignStore campaigns, CouponStockService coupons, CancellationToken cancellationToken)
    {
        if (CampaignValidator.IsValidCampaignId(campaignId) && CampaignValidator.IsValidCouponId(couponId)
            && await coupons.ReadAsync(campaignId, couponId) is { } live)
        {
            return TypedResults.Ok(new CouponStockView(live.Total, live.Available, live.State));
        }
        // Not in Redis: tell a defined-but-cold pool apart from one that does not exist.
        var coupon = CampaignValidator.IsValidCouponId(couponId) ? (await FindAsync(campaignId, campaigns, cancellationToken))?.FindCoupon(couponId) : null;
        return coupon is null
            ? Problems.NotFound($"Campaign '{campaignId}' has no coupon pool '{couponId}'.")
            : TypedResults.Ok(new CouponStockView(coupon.Quantity, 0, CouponState.NotWarmed));
    }

    /// <summary>The SKU's ledger, computed now from Redis and MySQL (read-only: repairs are the reconciler's).</summary>
    public static async Task<Results<Ok<SkuLedgerView>, ProblemHttpResult>> Ledger(
        string campaignId, long skuId, Reconciler reconciler, CancellationToken cancellationToken)
    {
        var ledger = CampaignValidator.IsValidCampaignId(campaignId) ? await reconciler.CheckAsync(campaignId, skuId, cancellationToken) : null;
        return ledger is null
            ? Problems.NotFound($"Campaign '{campaignId}' has no SKU {skuId}.")
            : TypedResults.Ok(ToView(ledger));
    }

    public static async Task<Results<Ok<SkuStockView>, ProblemHttpResult>> GetSku(
        string campaignId, long skuId, CampaignStore campaigns, StockService stock, CancellationToken cancellationToken)
    {
        if (CampaignValidator.IsValidCampaignId(campaignId) && await stock.ReadAsync(campaignId, skuId) is { } live)
        {
            return TypedResults.Ok(new SkuStockView(live.Total, live.Available, live.State));
        }
        // Not in Redis: tell a defined-but-cold SKU apart from one that does not exist.
        var sku = (await FindAsync(campaignId, campaigns, cancellationToken))?.FindSku(skuId);
        return sku is null
            ? Problems.NotFound($"Campaign '{campaignId}' has no SKU {skuId}.")
            : TypedResults.Ok(new SkuStockView(sku.Stock, 0, SkuState.NotWarmed));
    }

    private static async Task<CampaignDefinition?> FindAsync(string campaignId, CampaignStore campaigns, CancellationToken cancellationToken)
        => CampaignValidator.IsValidCampaignId(campaignId) ? await campaigns.GetAsync(campaignId, cancellationToken) : null;

    private static ProblemHttpResult UnknownCampaign(string campaignId) => Problems.NotFound($"There is no campaign '{campaignId}'.");

    // A null SKU stays null: the validator reports the body as it came.
    private static CampaignDefinition ToDefinition(CampaignBody body) => new(
        body.CampaignId, body.StartsAt, body.EndsAt, body.PaymentWindowSeconds,
        [.. (body.Skus ?? []).Select(s => s is null ? null! : new CampaignSku(s.SkuId, s.Price, s.Stock, s.PerUserLimit, s.Buckets ?? 1))],
        body.RateLimits is { } limits ? new CampaignRateLimits(ToLimit(limits.PerBuyer), ToLimit(limits.PerAddress), limits.Concurrency) : null,
        body.Admission is null ? null : new AdmissionSettings(
            body.Admission.Mode ?? "",
            body.Admission.AdmitFactor ?? AdmissionSettings.DefaultAdmitFactor,
            body.Admission.TokenSeconds ?? AdmissionSettings.DefaultTokenSeconds),
        body.Coupons is null ? null : [.. body.Coupons.Select(c => c is null ? null! : new CampaignCoupon(c.CouponId, c.Discount, c.MinSpend, c.Quantity, c.PerUserLimit))]);

    private static TokenBucketLimit? ToLimit(RateLimitBody? body) => body is null ? null : new(body.PermitsPerSecond, body.Burst);

    private static RateLimitBody? ToBody(TokenBucketLimit? limit) => limit is null ? null : new(limit.PermitsPerSecond, limit.Burst);

    private static CampaignView ToView(CampaignDefinition campaign, IReadOnlyList<SkuStock> stock, IReadOnlyList<CouponStock> pools) => new(
        campaign.CampaignId,
        campaign.StartsAt.UtcDateTime,
        campaign.EndsAt.UtcDateTime,
        campaign.PaymentWindowSeconds,
        [.. campaign.Skus.Zip(stock, (sku, s) => new CampaignSkuView(sku.SkuId, sku.Price, sku.Stock, sku.PerUserLimit, s.Available, s.State,
            sku.Buckets > 1 ? sku.Buckets : null))],
        new AdmissionView(campaign.EffectiveAdmission.Mode, campaign.EffectiveAdmission.AdmitFactor, campaign.EffectiveAdmission.TokenSeconds),
        campaign.RateLimits is { } limits ? new CampaignRateLimitsBody(ToBody(limits.PerBuyer), ToBody(limits.PerAddress), limits.Concurrency) : null,
        campaign.CouponPools.Count == 0 ? null : [.. campaign.CouponPools.Zip(pools, (c, p) => new CampaignCouponView(
            c.CouponId, c.Discount, c.MinSpend, c.Quantity, c.PerUserLimit, p.Available, p.State))]);

    private static CouponLedgerView ToView(CouponLedger ledger) => new(
        ledger.Total,
        new CouponRedisView(ledger.Redis.Available, ledger.Redis.Locked, ledger.Redis.Redeemed),
        new CouponDbView(ledger.Db.Locked, ledger.Db.Redeemed, ledger.Db.Released),
        ledger.InFlight,
        ledger.Drift,
        ledger.CheckedAt.UtcDateTime,
        [.. ledger.Findings.Take(SkuLedgerView.MaxFindings).Select(f => new DriftFindingView(
            f.Kind, f.OrderNo == 0 ? null : f.OrderNo.ToString(CultureInfo.InvariantCulture), f.Units))]);

    private static SkuLedgerView ToView(SkuLedger ledger) => new(
        ledger.Total,
        new RedisLedgerView(ledger.Redis.Available, ledger.Redis.Reserved, ledger.Redis.Sold),
        new DbLedgerView(ledger.Db.Pending, ledger.Db.Paid, ledger.Db.Cancelled),
        ledger.InFlight,
        ledger.Drift,
        ledger.CheckedAt.UtcDateTime,
        ledger.Warmed,
        [.. ledger.Findings.Take(SkuLedgerView.MaxFindings).Select(f => new DriftFindingView(
            f.Kind, f.OrderNo == 0 ? null : f.OrderNo.ToString(CultureInfo.InvariantCulture), f.Units))]);
}
