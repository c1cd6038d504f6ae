namespace FlashSale.Engine.Admission;

/// <summary>One admission wave: tickets up to <see cref="LastSequence"/> (after the previous wave's) admitted at <see cref="AdmittedAtMs"/> (Redis time).</summary>
public readonly record struct QueueWave(long LastSequence, long AdmittedAtMs);

/// <summary>Where a ticket stands: a <see cref="QueueStates"/> name, its position while waiting, its token's expiry once admitted.</summary>
public readonly record struct TicketStatus(string State, long Position = 0, long ExpiresAtMs = 0);

/// <summary>
/// A SKU's waiting room and stock as Redis held them at <see cref="ReadAtMs"/> (queue-view.lua): every ticket's state
/// follows from its sequence and these few numbers, so one read answers every buyer's poll. <see cref="Queue"/> false:
/// the SKU is open (no waiting room) and only <see cref="ReadAtMs"/> is set.
/// </summary>
public sealed record QueueSnapshot(
    long ReadAtMs,
    bool Queue,
    long Total,
    long Available,
    long StartsMs,
    long EndsMs,
    bool Fenced,
    int AdmitFactorMilli,
    int TokenSeconds,
    long Joined,
    long Admitted,
    long Lapsed,
    QueueWave[] Waves)
{
    public static QueueSnapshot Open(long readAtMs) => new(readAtMs, false, 0, 0, 0, 0, false, 0, 0, 0, 0, 0, []);

    /// <summary>
    /// The state of ticket <paramref name="sequence"/> at <paramref name="nowMs"/> (Redis time): after the end, Ended; with no unit
    /// left, SoldOut (every ticket at once, until units come back); a lapsed admission, Expired; within the admitted waves,
    /// Admitted until its wave's tokens expire; else Waiting, <c>position</c> 1 being admitted next.
    /// </summary>
    public TicketStatus StatusOf(long sequence, long nowMs)
    {
        if (nowMs >= EndsMs)
        {
            return new(QueueStates.Ended);
        }
        if (Available <= 0)
        {
            return new(QueueStates.SoldOut);
        }
        if (sequence <= Lapsed)
        {
            return new(QueueStates.Expired);
        }
        if (sequence <= Admitted)
        {
            var expires = ExpiryOf(sequence);
            return expires > nowMs ? new(QueueStates.Admitted, 0, expires) : new(QueueStates.Expired);
        }
        return new(QueueStates.Waiting, sequence - Admitted);
    }

    /// <summary>When the admission of ticket <paramref name="sequence"/> expires (Redis ms), from the wave that admitted it; 0 if no wave holds it.</summary>
    public long ExpiryOf(long sequence)
    {
        // Waves are in admission order, so their last sequences ascend: the first wave ending at or after the ticket holds it.
        int low = 0, high = Waves.Length - 1, found = -1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            if (Waves[mid].LastSequence >= sequence)
            {
                found = mid;
                high = mid - 1;
            }
            else
            {
                low = mid + 1;
            }
        }
        return found < 0 ? 0 : Waves[found].AdmittedAtMs + TokenSeconds * 1000L;
    }
}
