using FlashSale.Contracts;
using FlashSale.LoadTests.EngineApi;

namespace FlashSale.LoadTests.Scenarios.FullSale;

/// <summary>What the scenario decided a created order's buyer does.</summary>
public enum Fate
{
    Pay,
    Cancel,

    /// <summary>Nobody pays or cancels: the payment window closes and the Persister's timeout scan cancels it.</summary>
    TimeOut,

    /// <summary>The 201 was lost (timeout, 5xx) and a replay after the run showed the reservation: nobody acted on it.</summary>
    Unseen,
}

/// <summary>
/// One order of the sale and what happened to it. Its follow-ups run one after another (each is
/// scheduled from the answer to the one before, through the follow-up queue's lock), so the fields
/// are written by one thread at a time and read once the load is over.
/// </summary>
public sealed class SaleOrder(string orderNo, long buyerId, long skuId, int quantity, int wave, Fate fate, bool duplicateCallback)
{
    public string OrderNo => orderNo;

    public long BuyerId => buyerId;

    public long SkuId => skuId;

    public int Quantity => quantity;

    public int Wave => wave;

    public Fate Fate => fate;

    /// <summary>The provider sends this order's callback twice (the second after the first was answered).</summary>
    public bool DuplicateCallback => duplicateCallback;

    /// <summary>The order was made with the sale's coupon: it costs the discount less, and its coupon comes back if it is cancelled.</summary>
    public bool Coupon { get; init; }

    /// <summary>The first payment callback's decisive answer (not a 503 or an unknown one).</summary>
    public FollowUpOutcome? Payment { get; set; }

    /// <summary>The order status the decisive payment answer named.</summary>
    public string? PaymentOrderStatus { get; set; }

    /// <summary>The duplicate callback's decisive answer: must equal <see cref="Payment"/>.</summary>
    public FollowUpOutcome? DuplicatePayment { get; set; }

    public FollowUpOutcome? Cancel { get; set; }

    /// <summary>
    /// When the first cancel attempt fell due, on this machine's clock: the buyer's cancel cannot have
    /// released the order's units before it. Null when the buyer never cancelled.
    /// </summary>
    public DateTime? CancelNotBeforeUtc { get; set; }

    /// <summary>An answer that should not have come (or a follow-up given up after too many attempts).</summary>
    public string? Problem { get; set; }

    /// <summary>The order as read after the sale settled; null until then (or if it could not be read).</summary>
    public OrderResponse? Final { get; set; }

    /// <summary>The last read while settling did not find it final (or could not read it): why.</summary>
    public string? LastRead { get; set; }

    public bool IsFinal => Final?.Status is OrderStatus.Paid or OrderStatus.Cancelled;
}
