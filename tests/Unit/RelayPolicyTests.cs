using FlashSale.Engine.Relay;

namespace FlashSale.Tests.Unit;

public sealed class RelayPolicyTests
{
    private static readonly RelayOptions Settings = new() { PollIntervalMs = 5, MaxIdlePollMs = 50 };

    [Fact]
    public void ABusyRelayPollsAgainAtOnce() => Assert.Null(RelayPolicy.PauseAfter(read: 3, idleMs: 40, Settings));

    [Theory]
    [InlineData(3, 40)]
    [InlineData(0, 40)]
    [InlineData(0, 5)]
    public void ASafetyNetPollsAtItsOwnPaceBusyOrNot(int read, int idle)
        => Assert.Equal(Math.Max(Settings.SafetyNetPollMs, read > 0 ? 0 : idle), RelayPolicy.PauseAfter(read, idle, Settings, safetyNet: true));

    [Fact]
    public void AnIdleRelayBacksOffByDoublingUpToTheMaximum()
    {
        var pauses = new List<int>();
        var idle = Settings.PollIntervalMs;
        for (var round = 0; round < 6; round++)
        {
            pauses.Add(RelayPolicy.PauseAfter(read: 0, idle, Settings)!.Value);
            idle = RelayPolicy.NextIdle(idle, Settings);
        }

        Assert.Equal([5, 10, 20, 40, 50, 50], pauses);
    }

    [Theory]
    [InlineData(1_000L, 2_000L, 0L, true)]
    [InlineData(1_000L, 2_000L, 1L, false)]
    [InlineData(3_000L, 2_000L, 0L, false)]
    [InlineData(null, 2_000L, 0L, false)]
    public void OnlyAnEndedCampaignWithAnEmptyOutboxLeavesTheRelaysList(long? endsMs, long nowMs, long length, bool drained)
        => Assert.Equal(drained, RelayPolicy.IsDrained(endsMs, nowMs, length));

    [Theory]
    [InlineData("1700000000000-0", 10_000, 1_700_000_010_000L)]
    [InlineData("1700000000000-17", 2_000, 1_700_000_002_000L)]
    [InlineData("1700000000000-0", 0, null)]
    [InlineData("garbage", 10_000, null)]
    public void AnEntryBecomesTheRelaysOnlyOnceItsIdIsOlderThanTheSafetyNetAge(string id, int ageMs, long? due)
        => Assert.Equal(due, RelayPolicy.DueAtMs(id, ageMs));
}
