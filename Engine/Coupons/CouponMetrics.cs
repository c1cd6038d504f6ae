using System.Diagnostics.Metrics;
using FlashSale.Engine.Telemetry;

namespace FlashSale.Engine.Coupons;

/// <summary>Coupons: Tries by outcome, and Cancels by cause (the stock refused, or the orphan sweep).</summary>
public sealed class CouponMetrics(IMeterFactory meterFactory)
{
    private readonly Counter<long> _tries = meterFactory.Meter().CreateCounter<long>("flashsale.coupon.tries", "{try}",
        "Try-coupon calls of couponed reservations, by outcome (locked, replay, unavailable reason, recovering, ...).");

    private readonly Counter<long> _cancels = meterFactory.Meter().CreateCounter<long>("flashsale.coupon.cancels", "{coupon}",
        "Coupons given back to their pool by a Cancel, by cause: stock-refused (the stock's Try failed), orphan (the sweep).");

    public void Tried(string outcome) => _tries.Add(1, EngineTelemetry.Tag("outcome", outcome));

    public void Cancelled(string cause, long count = 1)
    {
        if (count > 0)
        {
            _cancels.Add(count, EngineTelemetry.Tag("cause", cause));
        }
    }
}
