using FlashSale.Engine.Redis;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace FlashSale.Engine.Reservations;

/// <summary>Drops a cached sold-out answer as soon as any process says stock came back (<see cref="RedisKeyspace.StockReturned"/>).</summary>
internal sealed class StockSignalListener(IConnectionMultiplexer redis, SoldOutCache soldOut) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
        => redis.GetSubscriber().SubscribeAsync(RedisKeyspace.StockReturned, (_, message) =>
        {
            if (SkuKeys.TryParseMember(message.ToString(), out var sku))
            {
                soldOut.Forget(sku.CampaignId, sku.SkuId);
            }
        });

    public Task StopAsync(CancellationToken cancellationToken) => redis.GetSubscriber().UnsubscribeAsync(RedisKeyspace.StockReturned);
}
