using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FlashSale.Engine.Telemetry;

/// <summary>
/// The one meter and activity source of the engine, both named <see cref="Name"/>. Each behaviour keeps
/// its own instruments in a metrics class of its own folder (ReservationMetrics, RelayMetrics, …), created
/// on this meter; <see cref="IMeterFactory"/> hands every one of them the same meter. docs/metrics.md lists
/// every instrument as Prometheus shows it.
/// </summary>
public static class EngineTelemetry
{
    public const string Name = "FlashSale";

    /// <summary>Spans of the engine's own work: reservations, relay batches, persister batches.</summary>
    public static readonly ActivitySource ActivitySource = new(Name);

    public static Meter Meter(this IMeterFactory factory) => factory.Create(Name);

    /// <summary>Milliseconds from a Redis-clock instant to now; never negative across clock skew.</summary>
    public static double SinceMs(this TimeProvider time, long epochMs) => Math.Max(0, time.GetUtcNow().ToUnixTimeMilliseconds() - epochMs);

    public static KeyValuePair<string, object?> Tag(string name, object? value) => new(name, value);
}
