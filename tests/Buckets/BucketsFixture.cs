using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Buckets;

/// <summary>
/// The pipeline for SKUs split into stock buckets: a reconciler that runs a round every second and finishes a transfer
/// left open for a second, and a recovery that waits 1.5 s for acknowledgements still on their way (the Ingress waits 1 s
/// for one).
/// </summary>
public sealed class BucketsFixture : PipelineFixture
{
    protected override IEnumerable<(string Key, string Value)> PersisterSettings() =>
    [
        ("Reconciler__IntervalMs", "1000"),
        ("Reconciler__TransferGraceMs", "1000"),
        ("Reconciler__GraceMs", "10000"),
        ("Reconciler__RecoverySettleMs", "1500"),
    ];

    protected override IEnumerable<(string Key, string Value)> IngressSettings() => [("Reservations__DurableAckTimeoutMs", "1000")];
}
