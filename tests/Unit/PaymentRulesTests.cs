using FlashSale.Contracts;
using FlashSale.Engine.Lifecycle;

namespace FlashSale.Tests.Unit;

public sealed class PaymentRulesTests
{
    [Theory]
    [InlineData(true, "10.00", "10.00", OrderStatus.PendingPayment, PaymentOutcome.Applied)]
    [InlineData(true, "9.99", "10.00", OrderStatus.PendingPayment, PaymentOutcome.AmountMismatch)]
    [InlineData(true, "10.00", "10.00", OrderStatus.Cancelled, PaymentOutcome.RefundRequired)]
    [InlineData(true, "10.00", "10.00", OrderStatus.Paid, PaymentOutcome.RefundRequired)]
    [InlineData(true, "12.00", "10.00", OrderStatus.Cancelled, PaymentOutcome.AmountMismatch)]
    [InlineData(false, "10.00", "10.00", OrderStatus.PendingPayment, PaymentOutcome.Failed)]
    [InlineData(false, "1.00", "10.00", OrderStatus.Paid, PaymentOutcome.Failed)]
    public void ACallbackForAPersistedOrderIsDecidedByResultAmountAndStatus(bool succeeded, string paid, string amount, string status, PaymentOutcome expected)
        => Assert.Equal(expected, PaymentRules.Decide(succeeded, decimal.Parse(paid, System.Globalization.CultureInfo.InvariantCulture),
            decimal.Parse(amount, System.Globalization.CultureInfo.InvariantCulture), status));

    [Theory]
    [InlineData(0, PaymentOutcome.OrderNotYetPersisted)]
    [InlineData(599, PaymentOutcome.OrderNotYetPersisted)]
    [InlineData(600, PaymentOutcome.UnknownOrder)]
    [InlineData(-59, PaymentOutcome.OrderNotYetPersisted)]
    [InlineData(-61, PaymentOutcome.UnknownOrder)]
    public void AMissingOrderIsOnItsWayOnlyWhileItsNumberIsYoung(int ageSeconds, PaymentOutcome expected)
        => Assert.Equal(expected, PaymentRules.ForMissingOrder(TimeSpan.FromSeconds(ageSeconds)));

    [Theory]
    [InlineData(PaymentOutcome.Applied)]
    [InlineData(PaymentOutcome.Failed)]
    [InlineData(PaymentOutcome.AmountMismatch)]
    [InlineData(PaymentOutcome.RefundRequired)]
    public void RecordedOutcomesReadBackAsThemselves(PaymentOutcome outcome)
        => Assert.Equal(outcome, PaymentRules.ParseRecorded(PaymentRules.Name(outcome)));
}
