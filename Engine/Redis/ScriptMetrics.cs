using System.Diagnostics.Metrics;
using FlashSale.Engine.Telemetry;

namespace FlashSale.Engine.Redis;

/// <summary>The latency of every Lua script call, by script.</summary>
public sealed class ScriptMetrics
{
    private static readonly double[] Buckets = [0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1_000, 5_000];

    private readonly Histogram<double> _duration;

    public ScriptMetrics(IMeterFactory meterFactory)
        => _duration = meterFactory.Meter().CreateHistogram("flashsale.redis.script.duration", "ms",
            "Latency of one Lua script call to Redis, including a NOSCRIPT reload.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Buckets });

    public void Called(in KeyValuePair<string, object?> scriptTag, TimeSpan elapsed) => _duration.Record(elapsed.TotalMilliseconds, scriptTag);
}
