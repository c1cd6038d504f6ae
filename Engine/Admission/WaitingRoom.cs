using System.Collections.Concurrent;
using System.Threading.Channels;
using FlashSale.Engine.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FlashSale.Engine.Admission;

/// <summary>A buyer's answer to joining a waiting room; <see cref="Ticket"/> is set when <see cref="Outcome"/> is Joined or AlreadyQueued.</summary>
public sealed record JoinResult(JoinOutcome Outcome, string? Ticket = null, long Position = 0, string? State = null);

/// <summary>A ticket's state for its buyer; <see cref="AdmissionToken"/> and <see cref="ExpiresAt"/> once admitted. Null result: no such ticket.</summary>
public sealed record TicketView(string State, long? Position, string? AdmissionToken, DateTimeOffset? ExpiresAt);

/// <summary>What a reservation may do: go ahead as in an open SKU, go ahead on a valid admission, or be refused (403).</summary>
public readonly record struct AdmissionDecision(bool Allowed, long Sequence = 0, TokenCheck Check = TokenCheck.Valid, bool Lapsed = false)
{
    public static AdmissionDecision NotRequired { get; } = new(true);
}

/// <summary>
/// The waiting rooms as the Ingress serves them. Joining is one script (queue-join.lua). Polls and token checks are
/// answered from an in-memory view of each SKU's room (<see cref="QueueSnapshot"/>: one script read, at most every
/// <see cref="AdmissionOptions.ViewMaxAgeMs"/> per SKU however many buyers ask); a ticket's state follows from its
/// sequence and that view, and its admission token is minted from them on the spot, so nothing is stored per token.
/// A token's use is counted (queue-use.lua) right after its reservation was created, in the background.
/// </summary>
public sealed class WaitingRoom(
    IDatabase redis,
    SkuScripts scripts,
    AdmissionTokens tokens,
    AdmissionMetrics metrics,
    IOptions<AdmissionOptions> options,
    TimeProvider time)
{
    /// <summary>An open SKU stays open (definitions never change), so its view is read again only this rarely.</summary>
    private static readonly TimeSpan OpenViewMaxAge = TimeSpan.FromSeconds(5);

    private readonly TimeSpan _viewMaxAge = TimeSpan.FromMilliseconds(options.Value.ViewMaxAgeMs);
    private readonly ConcurrentDictionary<(string, long), View> _views = new();
    private readonly ConcurrentDictionary<(string, long), Lazy<Task<View?>>> _reads = new();
    private readonly Channel<(SkuKeys Sku, long Sequence)> _used = Channel.CreateUnbounded<(SkuKeys, long)>(new UnboundedChannelOptions { SingleReader = true });

    public int PollIntervalSeconds => options.Value.PollIntervalSeconds;

    /// <summary>Used admissions waiting to be counted in Redis (<see cref="AdmissionUsage"/> reads them).</summary>
    internal ChannelReader<(SkuKeys Sku, long Sequence)> UsedAdmissions => _used.Reader;

    public async Task<JoinResult> JoinAsync(string campaignId, long skuId, long userId)
    {
        var sku = new SkuKeys(campaignId, skuId);
        var reply = await scripts.JoinQueueAsync(redis, sku, userId);
        if (reply.Outcome is not (JoinOutcome.Joined or JoinOutcome.AlreadyQueued))
        {
            return new JoinResult(reply.Outcome);
        }
        if (reply.Outcome == JoinOutcome.Joined)
        {
            metrics.Joined();
        }
        var ticket = tokens.MintTicket(campaignId, skuId, userId, reply.Sequence);
        var state = reply.Available <= 0 ? QueueStates.SoldOut
            : reply.Sequence <= reply.Admitted ? QueueStates.Admitted
            : QueueStates.Waiting;
        return new JoinResult(reply.Outcome, ticket, Math.Max(0, reply.Sequence - reply.Admitted), state);
    }

    /// <summary>The ticket's state for its buyer; null when it is not this buyer's ticket of a waiting room of this SKU.</summary>
    public async Task<TicketView?> StatusAsync(string campaignId, long skuId, long userId, string ticket)
    {
        if (!tokens.TryReadTicket(ticket, campaignId, skuId, userId, out var sequence))
        {
            return null;
        }
        var view = await ViewAsync(new SkuKeys(campaignId, skuId));
        if (view is not { Snapshot.Queue: true })
        {
            return null;
        }
        var status = view.Snapshot.StatusOf(sequence, view.RedisNowMs(time));
        return status.State switch
        {
            QueueStates.Waiting => new TicketView(status.State, status.Position, null, null),
            QueueStates.Admitted => new TicketView(status.State, null,
                tokens.MintToken(campaignId, skuId, userId, sequence, status.ExpiresAtMs), DateTimeOffset.FromUnixTimeMilliseconds(status.ExpiresAtMs)),
            _ => new TicketView(status.State, null, null, null),
        };
    }

    /// <summary>
    /// Whether a reservation may be decided: always in an open SKU (or one Redis does not know: the decision answers it);
    /// in a waiting room only with a valid admission token of this buyer that was not withdrawn.
    /// </summary>
    public async ValueTask<AdmissionDecision> CheckAsync(string campaignId, long skuId, long userId, string? token)
    {
        var view = await ViewAsync(new SkuKeys(campaignId, skuId), staleOnFailure: true);
        if (view is not { Snapshot.Queue: true })
        {
            return AdmissionDecision.NotRequired;
        }
        var check = tokens.Check(token, campaignId, skuId, userId, view.RedisNowMs(time), out var sequence);
        if (check != TokenCheck.Valid)
        {
            metrics.Refused(check, lapsed: false);
            return new AdmissionDecision(false, Check: check);
        }
        // Withdrawn at a sell-out, or expired on the admitting loop's clock: the slot went to the next ticket already.
        if (sequence <= view.Snapshot.Lapsed)
        {
            metrics.Refused(check, lapsed: true);
            return new AdmissionDecision(false, Check: check, Lapsed: true);
        }
        return new AdmissionDecision(true, sequence);
    }

    /// <summary>The reservation made with this admission was created: its slot goes to the next ticket (counted in the background).</summary>
    public void Used(string campaignId, long skuId, long sequence) => _used.Writer.TryWrite((new SkuKeys(campaignId, skuId), sequence));

    /// <summary>The SKU's view, read again when it is older than allowed; null when Redis does not hold the SKU (never cached).</summary>
    /// <param name="staleOnFailure">
    /// When Redis does not answer, go on with the view held (the door: the decision that follows answers the outage itself,
    /// as it would without a waiting room) instead of failing.
    /// </param>
    private async ValueTask<View?> ViewAsync(SkuKeys sku, bool staleOnFailure = false)
    {
        var key = (sku.CampaignId, sku.SkuId);
        if (_views.TryGetValue(key, out var view))
        {
            if (view.Snapshot.Queue)
            {
                if (time.GetElapsedTime(view.ReadAt) <= _viewMaxAge)
                {
                    return view;
                }
                if (staleOnFailure)
                {
                    try
                    {
                        return await ReadAsync(sku, key);
                    }
                    catch (Exception ex) when (ex is RedisException or TimeoutException)
                    {
                        return view;
                    }
                }
            }
            else
            {
                // An open SKU's reservations never wait for this: its view is read again in the background, the old one serving meanwhile.
                if (time.GetElapsedTime(view.ReadAt) > OpenViewMaxAge)
                {
                    _ = RefreshAsync(sku, key);
                }
                return view;
            }
        }
        return await ReadAsync(sku, key);
    }

    private async Task RefreshAsync(SkuKeys sku, (string, long) key)
    {
        try
        {
            await ReadAsync(sku, key);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // The view it would have replaced serves until the next request tries again.
        }
    }

    /// <summary>One read per SKU at a time: every poll arriving meanwhile waits for the same one.</summary>
    private async Task<View?> ReadAsync(SkuKeys sku, (string, long) key)
    {
        var read = _reads.GetOrAdd(key, _ => new Lazy<Task<View?>>(() => ReadOnceAsync(sku, key)));
        try
        {
            return await read.Value;
        }
        finally
        {
            _reads.TryRemove(new KeyValuePair<(string, long), Lazy<Task<View?>>>(key, read));
        }
    }

    private async Task<View?> ReadOnceAsync(SkuKeys sku, (string, long) key)
    {
        var started = time.GetTimestamp();
        var snapshot = await scripts.ReadQueueAsync(redis, sku);
        if (snapshot is null)
        {
            _views.TryRemove(key, out _);
            return null;
        }
        var view = new View(snapshot, started, snapshot.ReadAtMs - time.GetUtcNow().ToUnixTimeMilliseconds());
        _views[key] = view;
        return view;
    }

    /// <param name="ReadAt">When the read began (a <see cref="TimeProvider"/> timestamp): its age counts from then.</param>
    /// <param name="ClockOffsetMs">Redis's clock minus ours at the read: expiries are Redis times, judged on Redis's clock.</param>
    private sealed record View(QueueSnapshot Snapshot, long ReadAt, long ClockOffsetMs)
    {
        public long RedisNowMs(TimeProvider time) => time.GetUtcNow().ToUnixTimeMilliseconds() + ClockOffsetMs;
    }
}
