using FlashSale.Engine.Redis;

namespace FlashSale.Engine.Orders;

/// <summary>An order's status as the <c>orders.status</c> column and the API name it.</summary>
public static class OrderStatus
{
    public const string PendingPayment = "PendingPayment";
    public const string Paid = "Paid";
    public const string Cancelled = "Cancelled";

    /// <summary>The status a Redis ledger record stands for.</summary>
    public static string OfLedger(char state) => state switch
    {
        LedgerRecord.Paid => Paid,
        LedgerRecord.Cancelled => Cancelled,
        _ => PendingPayment,
    };

    /// <summary>The ledger state an order of this status has in Redis.</summary>
    public static char ToLedger(string status) => status switch
    {
        Paid => LedgerRecord.Paid,
        Cancelled => LedgerRecord.Cancelled,
        _ => LedgerRecord.Reserved,
    };
}
