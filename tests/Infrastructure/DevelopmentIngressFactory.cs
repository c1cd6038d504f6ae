namespace FlashSale.Tests.Infrastructure;

/// <summary>
/// The same in-process Ingress in the Development environment, as dev/up.sh runs it: there the framework
/// throws on a parameter that does not bind instead of answering 400 itself, so bad input is tried here too.
/// </summary>
public sealed class DevelopmentIngressFactory : IngressFactory
{
    protected override string EnvironmentName => "Development";
}

[CollectionDefinition(Name)]
public sealed class DevelopmentIngressCollection : ICollectionFixture<DevelopmentIngressFactory>
{
    public const string Name = "ingress-development";
}
