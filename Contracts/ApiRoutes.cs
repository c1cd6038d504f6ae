using System.Globalization;

namespace FlashSale.Contracts;

/// <summary>
/// The HTTP API's route templates, as the Ingress maps them, and the concrete paths a client sends.
/// <c>{skuId:long}</c> is part of the contract: a SKU id that is not a 64-bit integer matches no route (404).
/// </summary>
public static class ApiRoutes
{
    public const string Campaigns = "/api/v1/campaigns";
    public const string Sku = Campaigns + "/{campaignId}/skus/{skuId:long}";
    public const string Reservations = Sku + "/reservations";

    /// <summary>A waiting-room SKU's queue: POST joins it (202 with a ticket).</summary>
    public const string Queue = Sku + "/queue";

    /// <summary>One ticket of the queue: GET polls its state (the buyer's own tickets only).</summary>
    public const string QueueTicket = Queue + "/{ticket}";

    /// <summary>A campaign's coupon pool: GET reads how many are left (public).</summary>
    public const string Coupon = Campaigns + "/{campaignId}/coupons/{couponId}";

    public const string Orders = "/api/v1/orders";
    public const string Order = Orders + "/{orderNo}";
    public const string OrderCancel = Order + "/cancel";

    public const string AdminCampaigns = "/api/v1/admin/campaigns";
    public const string AdminCampaign = AdminCampaigns + "/{campaignId}";
    public const string CampaignWarmup = AdminCampaign + "/warmup";
    public const string SkuLedger = AdminCampaign + "/skus/{skuId:long}/ledger";
    public const string CampaignReconcile = AdminCampaign + "/reconcile";

    /// <summary>A coupon pool's ledger: Redis against MySQL (admin).</summary>
    public const string CouponLedger = AdminCampaign + "/coupons/{couponId}/ledger";

    /// <summary>The operator console's live stream (server-sent events, one update a second).</summary>
    public const string AdminLive = "/api/v1/admin/live";

    /// <summary>The operator console's page (static files served by the Ingress; not part of the JSON API).</summary>
    public const string ConsolePage = "/console";

    public const string Payments = "/api/v1/payments";
    public const string PaymentCallbacks = Payments + "/callbacks";
    public const string AdminPayments = "/api/v1/admin/payments";

    public static string SkuPath(string campaignId, long skuId) => string.Create(CultureInfo.InvariantCulture, $"/api/v1/campaigns/{campaignId}/skus/{skuId}");

    public static string ReservationsPath(string campaignId, long skuId) => SkuPath(campaignId, skuId) + "/reservations";

    public static string QueuePath(string campaignId, long skuId) => SkuPath(campaignId, skuId) + "/queue";

    public static string QueueTicketPath(string campaignId, long skuId, string ticket) => QueuePath(campaignId, skuId) + "/" + Uri.EscapeDataString(ticket);

    public static string OrderPath(string orderNo) => Orders + "/" + orderNo;

    public static string OrderPath(long orderNo) => OrderPath(orderNo.ToString(CultureInfo.InvariantCulture));

    public static string OrderCancelPath(string orderNo) => OrderPath(orderNo) + "/cancel";

    /// <summary>A page of the buyer's orders; <paramref name="cursor"/> is the previous page's <c>nextCursor</c>.</summary>
    public static string OrdersPath(int limit, string? cursor = null)
        => string.Create(CultureInfo.InvariantCulture, $"{Orders}?limit={limit}") + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));

    public static string AdminCampaignPath(string campaignId) => AdminCampaigns + "/" + campaignId;

    public static string CampaignWarmupPath(string campaignId, bool force = false)
        => AdminCampaignPath(campaignId) + "/warmup" + (force ? "?force=true" : "");

    public static string CampaignReconcilePath(string campaignId, bool repair = false)
        => AdminCampaignPath(campaignId) + "/reconcile" + (repair ? "?repair=true" : "");

    public static string CouponPath(string campaignId, string couponId) => $"{Campaigns}/{campaignId}/coupons/{Uri.EscapeDataString(couponId)}";

    public static string CouponLedgerPath(string campaignId, string couponId) => $"{AdminCampaigns}/{campaignId}/coupons/{Uri.EscapeDataString(couponId)}/ledger";

    public static string SkuLedgerPath(string campaignId, long skuId) => string.Create(CultureInfo.InvariantCulture, $"{AdminCampaigns}/{campaignId}/skus/{skuId}/ledger");

    /// <summary>Recorded payment callbacks with one outcome (see <see cref="PaymentOutcomes"/>), newest first.</summary>
    public static string AdminPaymentsPath(string outcome, int limit)
        => string.Create(CultureInfo.InvariantCulture, $"{AdminPayments}?outcome={Uri.EscapeDataString(outcome)}&limit={limit}");
}
