using FlashSale.Engine.Redis;

namespace FlashSale.Engine.Orders;

/// <summary>How an order's status (<see cref="OrderStatus"/>, the API's and the <c>orders.status</c> column's) maps to a Redis ledger state.</summary>
public static class OrderStates
{
    /// <summary>The status a Redis ledger record stands for.</summary>
    public static string OfLedger(char state) => state switch
    {
        LedgerRecord.Paid => OrderStatus.Paid,
        LedgerRecord.Cancelled => OrderStatus.Cancelled,
        _ => OrderStatus.PendingPayment,
    };

    /// <summary>The ledger state an order of this status has in Redis.</summary>
    public static char ToLedger(string status) => status switch
    {
        OrderStatus.Paid => LedgerRecord.Paid,
        OrderStatus.Cancelled => LedgerRecord.Cancelled,
        _ => LedgerRecord.Reserved,
    };
}
