namespace FlashSale.Engine.Relay;

/// <summary>The relay's pacing and pruning decisions, apart from the I/O that follows them.</summary>
public static class RelayPolicy
{
    /// <summary>
    /// How long to pause after a round that read <paramref name="read"/> entries: null (poll again at once) while
    /// busy; the current idle pause while every outbox stays empty. As the safety net of durable acknowledgement
    /// (<paramref name="safetyNet"/>) the relay sends nothing younger than the safety-net age, so polling faster
    /// than <see cref="RelayOptions.SafetyNetPollMs"/> would only cost Redis reads of entries their Ingress is sending.
    /// </summary>
    public static int? PauseAfter(int read, int idleMs, RelayOptions settings, bool safetyNet = false)
        => safetyNet ? Math.Max(settings.SafetyNetPollMs, read > 0 ? 0 : idleMs) : read > 0 ? null : Math.Max(idleMs, settings.PollIntervalMs);

    /// <summary>The next idle pause: doubled, up to MaxIdlePollMs, so quiet SKUs cost Redis little.</summary>
    public static int NextIdle(int idleMs, RelayOptions settings) => Math.Min(Math.Max(idleMs, 1) * 2, settings.MaxIdlePollMs);

    /// <summary>
    /// When an outbox entry becomes the relay's to send under durable acknowledgement: its stream id's time (Redis's
    /// clock at XADD) plus the safety-net age. Null when it is the relay's at once: no safety-net age (the Ingress
    /// produces nothing itself), or an id that is not <c>ms-seq</c>. The relay compares it with its own clock, so
    /// hosts' clocks must agree to well within the age (NTP does).
    /// </summary>
    public static long? DueAtMs(string entryId, int safetyNetAgeMs)
        => safetyNetAgeMs > 0 && WrittenAtMs(entryId) is { } ms ? ms + safetyNetAgeMs : null;

    /// <summary>When an outbox entry was written: its stream id's time (<c>ms-seq</c>, Redis's clock); null for another id.</summary>
    public static long? WrittenAtMs(string entryId)
    {
        var dash = entryId.IndexOf('-', StringComparison.Ordinal);
        return dash > 0
            && long.TryParse(entryId.AsSpan(0, dash), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms)
            ? ms
            : null;
    }

    /// <summary>A SKU leaves the relay's list once its campaign has ended and its outbox is empty; warm-up puts it back.</summary>
    public static bool IsDrained(long? endsMs, long nowMs, long outboxLength) => endsMs is { } ends && ends < nowMs && outboxLength == 0;
}
