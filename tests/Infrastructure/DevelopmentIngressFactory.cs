namespace FlashSale.Tests.Infrastructure;

/// <summary>
/// The same in-process Ingress in the Development environment, as dev/up.sh runs it: there the framework
/// throws on a parameter that does not bind instead of answering 400 itself, so bad input is tried here too.
/// <para>
/// It is not disposed before the test process ends. Disposing a host completes its FlashSale instruments,
/// and OpenTelemetry shares a metric stream between same-named instruments of every host in one process,
/// so the other in-process host's <c>/metrics</c> (which MetricsTests read) would go silent.
/// </para>
/// </summary>
public sealed class DevelopmentIngressFactory : IngressFactory
{
    protected override string EnvironmentName => "Development";

#pragma warning disable CA2215 // Deliberately left to the end of the process; see the summary.
    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
#pragma warning restore CA2215
}

[CollectionDefinition(Name)]
public sealed class DevelopmentIngressCollection : ICollectionFixture<DevelopmentIngressFactory>
{
    public const string Name = "ingress-development";
}
