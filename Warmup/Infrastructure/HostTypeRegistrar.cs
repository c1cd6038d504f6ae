using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Spectre.Console.Cli;

namespace FlashSale.Warmup.Infrastructure;

/// <summary>
/// Lets Spectre.Console.Cli create commands from the host's container, so a command asks for
/// <c>CampaignStore</c> or <c>StockService</c> like any other engine host does.
/// </summary>
internal sealed class HostTypeRegistrar(HostApplicationBuilder builder) : ITypeRegistrar
{
    public void Register(Type service, Type implementation) => builder.Services.AddSingleton(service, implementation);

    public void RegisterInstance(Type service, object implementation) => builder.Services.AddSingleton(service, implementation);

    public void RegisterLazy(Type service, Func<object> factory) => builder.Services.AddSingleton(service, _ => factory());

    public ITypeResolver Build() => new HostTypeResolver(builder.Build());
}

/// <summary>Spectre disposes the resolver after the command, which closes the Redis connection and the pools.</summary>
internal sealed class HostTypeResolver(IHost host) : ITypeResolver, IDisposable
{
    public object? Resolve(Type? type) => type is null ? null : host.Services.GetService(type);

    public void Dispose() => host.Dispose();
}
