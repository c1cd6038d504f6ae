namespace FlashSale.Engine.Relay;

/// <summary>The relay's pacing and pruning decisions, apart from the I/O that follows them.</summary>
public static class RelayPolicy
{
    /// <summary>
    /// How long to pause after a round that read <paramref name="read"/> entries: null (poll again at once) while
    /// busy; the current idle pause while every outbox stays empty.
    /// </summary>
    public static int? PauseAfter(int read, int idleMs, RelayOptions settings) => read > 0 ? null : Math.Max(idleMs, settings.PollIntervalMs);

    /// <summary>The next idle pause: doubled, up to MaxIdlePollMs, so quiet SKUs cost Redis little.</summary>
    public static int NextIdle(int idleMs, RelayOptions settings) => Math.Min(Math.Max(idleMs, 1) * 2, settings.MaxIdlePollMs);

    /// <summary>A SKU leaves the relay's list once its campaign has ended and its outbox is empty; warm-up puts it back.</summary>
    public static bool IsDrained(long? endsMs, long nowMs, long outboxLength) => endsMs is { } ends && ends < nowMs && outboxLength == 0;
}
