using FlashSale.Engine.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace FlashSale.Engine.Orders;

public static class OrdersSetup
{
    /// <summary>Reading orders (MySQL, and the Redis ledger for those not persisted yet).</summary>
    public static IHostApplicationBuilder AddOrderQueries(this IHostApplicationBuilder builder)
    {
        builder.AddEngineCore();
        builder.AddShards();
        builder.Services.TryAddSingleton<OrderQueries>();
        return builder;
    }
}
