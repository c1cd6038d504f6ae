using System.Diagnostics.Metrics;
using FlashSale.Engine.Telemetry;

namespace FlashSale.Engine.Lifecycle;

/// <summary>Payment callbacks by outcome, cancellations by reason, and units given back to the sale.</summary>
public sealed class LifecycleMetrics
{
    private static readonly KeyValuePair<string, object?> Replayed = EngineTelemetry.Tag("outcome", "replayed");

    private readonly Counter<long> _paymentCallbacks;
    private readonly Counter<long> _cancellations;
    private readonly Counter<long> _unitsReleased;
    private readonly Counter<long> _couponsReleased;

    public LifecycleMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Meter();
        _paymentCallbacks = meter.CreateCounter<long>("flashsale.payments.callbacks", "{callback}",
            "Payment callbacks by outcome; a provider's retry of a recorded one is 'replayed'.");
        _cancellations = meter.CreateCounter<long>("flashsale.orders.cancelled", "{order}",
            "Orders moved PendingPayment -> Cancelled, by reason.");
        _unitsReleased = meter.CreateCounter<long>("flashsale.stock.released", "{unit}",
            "Units of cancelled orders given back to the sale in Redis.");
        _couponsReleased = meter.CreateCounter<long>("flashsale.coupons.released", "{coupon}",
            "Coupons of cancelled orders given back to their pool in Redis.");
    }

    public void PaymentCallback(PaymentOutcome outcome, bool replayed)
        => _paymentCallbacks.Add(1, replayed ? Replayed : EngineTelemetry.Tag("outcome", PaymentRules.Name(outcome)));

    /// <summary><paramref name="reason"/> is one of the lifecycle's fixed reasons (buyer, payment-failed, payment-timeout).</summary>
    public void OrdersCancelled(string reason, int orders)
    {
        if (orders > 0)
        {
            _cancellations.Add(orders, EngineTelemetry.Tag("reason", reason));
        }
    }

    public void UnitsReleased(long units)
    {
        if (units > 0)
        {
            _unitsReleased.Add(units);
        }
    }

    public void CouponsReleased(long coupons)
    {
        if (coupons > 0)
        {
            _couponsReleased.Add(coupons);
        }
    }
}
