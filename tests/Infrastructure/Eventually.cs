namespace FlashSale.Tests.Infrastructure;

/// <summary>Waits for a condition that the engine reaches asynchronously (a drain, a relay round, a pub/sub signal).</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    public static Task HoldsAsync(Func<bool> condition, TimeSpan? timeout = null)
        => HoldsAsync(() => Task.FromResult(condition()), timeout);

    public static async Task HoldsAsync(Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var deadline = DateTime.UtcNow + limit;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"condition not met within {limit.TotalSeconds} s");
            await Task.Delay(50);
        }
    }
}
