using FlashSale.Engine.Reservations;
using FlashSale.Engine.Storage;

namespace FlashSale.Tests.Orders;

public sealed class OrderNumberTests
{
    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void NumbersAreUniqueAcrossNodesAndCarryNodeShardAndTime()
    {
        var time = new FixedTime(new DateTimeOffset(2026, 6, 18, 12, 0, 0, TimeSpan.Zero));
        var nodes = Enumerable.Range(0, 4).Select(n => new OrderNumberGenerator(n, time)).ToArray();

        // 5,000 numbers per node within one frozen millisecond: the sequence spills into later ones.
        var numbers = nodes.SelectMany((g, n) => Enumerable.Range(0, 5_000).Select(i => (Node: n, User: (long)i, No: g.Next(i)))).ToList();

        Assert.Equal(numbers.Count, numbers.Select(x => x.No).Distinct().Count());
        Assert.All(numbers, x =>
        {
            Assert.True(x.No > 0);
            Assert.Equal(x.Node, OrderNumbers.NodeOf(x.No));
            Assert.Equal((int)(x.User % 64), OrderNumbers.LogicalShardOf(x.No));
        });
        Assert.Equal(time.Now, OrderNumbers.TimestampOf(numbers[0].No));
    }

    [Fact]
    public void NumbersIncreaseWithTimeAndSurviveAClockStepBack()
    {
        var time = new FixedTime(new DateTimeOffset(2026, 6, 18, 12, 0, 0, TimeSpan.Zero));
        var generator = new OrderNumberGenerator(7, time);

        var first = generator.Next(1);
        time.Now += TimeSpan.FromMilliseconds(5);
        var later = generator.Next(1);
        time.Now -= TimeSpan.FromSeconds(10);
        var afterStepBack = generator.Next(1);

        Assert.True(later > first);
        Assert.True(afterStepBack > later);
    }

    [Fact]
    public async Task ConcurrentCallersNeverShareANumber()
    {
        var generator = new OrderNumberGenerator(3, TimeProvider.System);

        var batches = await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(() => Enumerable.Range(0, 20_000).Select(i => generator.Next(t)).ToArray())));

        var all = batches.SelectMany(b => b).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(64)]
    public void NodeIdOutsideSixBitsIsRejected(int node)
        => Assert.Throws<ArgumentOutOfRangeException>(() => new OrderNumberGenerator(node, TimeProvider.System));
}
