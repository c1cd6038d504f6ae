namespace FlashSale.Engine.Lifecycle;

public enum PaymentOutcome
{
    /// <summary>The order went PendingPayment → Paid.</summary>
    Applied,

    /// <summary>The provider reported a failed payment; a pending order was cancelled and its stock released.</summary>
    Failed,

    /// <summary>The amount differs from the order's; recorded, the order unchanged.</summary>
    AmountMismatch,

    /// <summary>Money arrived for an order that is cancelled (or paid already): the shop owes a refund.</summary>
    RefundRequired,

    /// <summary>The order is too young to be in MySQL yet: the provider should retry.</summary>
    OrderNotYetPersisted,

    /// <summary>No such order, and none can still be on its way.</summary>
    UnknownOrder,
}

/// <summary>What a payment callback does to an order: the decision, apart from the transaction that applies it.</summary>
public static class PaymentRules
{
    /// <summary>How long after its creation an order may still be on its way to MySQL (Kafka lag).</summary>
    public static readonly TimeSpan PersistenceGrace = TimeSpan.FromMinutes(10);

    /// <summary>How far an order number's timestamp may lie ahead of this clock (another node's clock) and still be believed.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(1);

    /// <summary>The outcome of a callback for an order MySQL holds with <paramref name="orderAmount"/> and <paramref name="orderStatus"/>.</summary>
    public static PaymentOutcome Decide(bool succeeded, decimal paid, decimal orderAmount, string orderStatus)
        => !succeeded ? PaymentOutcome.Failed
            : paid != orderAmount ? PaymentOutcome.AmountMismatch
            : orderStatus == OrderStatus.PendingPayment ? PaymentOutcome.Applied
            : PaymentOutcome.RefundRequired;

    /// <summary>The outcome for an order MySQL does not hold, whose number says it was created <paramref name="age"/> ago.</summary>
    public static PaymentOutcome ForMissingOrder(TimeSpan age)
        => age < PersistenceGrace && age > -ClockSkew ? PaymentOutcome.OrderNotYetPersisted : PaymentOutcome.UnknownOrder;

    /// <summary>The outcome's stable name: the API's, the payments table's and the metric's.</summary>
    public static string Name(PaymentOutcome outcome) => outcome switch
    {
        PaymentOutcome.Applied => PaymentOutcomes.Applied,
        PaymentOutcome.Failed => PaymentOutcomes.Failed,
        PaymentOutcome.AmountMismatch => PaymentOutcomes.AmountMismatch,
        PaymentOutcome.RefundRequired => PaymentOutcomes.RefundRequired,
        PaymentOutcome.OrderNotYetPersisted => ProblemTypes.OrderNotYetPersisted,
        PaymentOutcome.UnknownOrder => "unknown-order",
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "Not a payment outcome."),
    };

    /// <summary>An outcome the payments table records (applied, failed, amount-mismatch, refund-required).</summary>
    public static PaymentOutcome ParseRecorded(string name) => name switch
    {
        PaymentOutcomes.Applied => PaymentOutcome.Applied,
        PaymentOutcomes.Failed => PaymentOutcome.Failed,
        PaymentOutcomes.AmountMismatch => PaymentOutcome.AmountMismatch,
        PaymentOutcomes.RefundRequired => PaymentOutcome.RefundRequired,
        _ => throw new InvalidOperationException($"Unknown payment outcome '{name}' in the payments table."),
    };
}
