using System.Globalization;
using FlashSale.Engine.Admission;
using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

public enum JoinOutcome
{
    /// <summary>A new ticket at the back of the queue.</summary>
    Joined,

    /// <summary>The buyer's ticket already in the queue, unchanged.</summary>
    AlreadyQueued,

    NotWarmed,

    /// <summary>The SKU has no waiting room (open admission).</summary>
    NoQueue,

    Ended,
}

/// <param name="Sequence">The ticket's place in join order (1 = first).</param>
public readonly record struct JoinReply(JoinOutcome Outcome, long Sequence = 0, long Admitted = 0, long Lapsed = 0, long Available = 0);

/// <summary>One step of the admitting loop for a SKU (queue-admit.lua); <see cref="Applies"/> false: not a waiting room (any more).</summary>
public readonly record struct AdmitReply(
    bool Applies, long AdmittedNow = 0, long Admitted = 0, long Lapsed = 0, long Outstanding = 0, long Available = 0, long Joined = 0, bool Ended = false);

public sealed partial class SkuScripts
{
    private static readonly RedisScript QueueJoin = RedisScript.Load("queue-join.lua");
    private static readonly RedisScript QueueAdmit = RedisScript.Load("queue-admit.lua");
    private static readonly RedisScript QueueView = RedisScript.Load("queue-view.lua");
    private static readonly RedisScript QueueUse = RedisScript.Load("queue-use.lua");

    /// <summary>The buyer's ticket in the SKU's waiting room: a new one, or the one they hold (queue-join.lua).</summary>
    public async Task<JoinReply> JoinQueueAsync(IDatabaseAsync db, SkuKeys sku, long userId)
    {
        var reply = (RedisResult[])(await QueueJoin.EvaluateAsync(db, metrics, [sku.Meta, sku.Queue, sku.QueueTickets], [userId]))!;
        return Code(reply) switch
        {
            ScriptCode.Done => new(JoinOutcome.Joined, (long)reply[1], (long)reply[2], (long)reply[3], (long)reply[4]),
            ScriptCode.AlreadyDone => new(JoinOutcome.AlreadyQueued, (long)reply[1], (long)reply[2], (long)reply[3], (long)reply[4]),
            ScriptCode.NotWarmed => new(JoinOutcome.NotWarmed),
            ScriptCode.NoQueue => new(JoinOutcome.NoQueue),
            ScriptCode.CampaignEnded => new(JoinOutcome.Ended),
            var code => throw Unexpected(QueueJoin, code),
        };
    }

    /// <summary>Expires, withdraws and admits the SKU's next wave (queue-admit.lua).</summary>
    public async Task<AdmitReply> AdmitAsync(IDatabaseAsync db, SkuKeys sku)
    {
        var reply = (RedisResult[])(await QueueAdmit.EvaluateAsync(db, metrics, [sku.Meta, sku.Queue, sku.QueueWaves, sku.QueueUsed]))!;
        return Code(reply) switch
        {
            ScriptCode.Done => new(true, (long)reply[1], (long)reply[2], (long)reply[3], (long)reply[4], (long)reply[5], (long)reply[6], (long)reply[7] == 1),
            ScriptCode.NotWarmed or ScriptCode.NoQueue => new(false),
            var code => throw Unexpected(QueueAdmit, code),
        };
    }

    /// <summary>The SKU's waiting room and stock at one instant (queue-view.lua); null when Redis does not hold the SKU.</summary>
    public async Task<QueueSnapshot?> ReadQueueAsync(IDatabaseAsync db, SkuKeys sku)
    {
        var reply = (RedisResult[])(await QueueView.EvaluateAsync(db, metrics, [sku.Meta, sku.Queue, sku.QueueWaves]))!;
        switch (Code(reply))
        {
            case ScriptCode.NotWarmed:
                return null;
            case ScriptCode.Done:
                break;
            case var code:
                throw Unexpected(QueueView, code);
        }
        var admitMilli = (int)reply[7];
        if (admitMilli == 0)
        {
            return QueueSnapshot.Open((long)reply[1]);
        }
        var waves = new QueueWave[reply.Length - 12];
        for (var i = 0; i < waves.Length; i++)
        {
            var text = reply[12 + i].ToString();
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            waves[i] = new QueueWave(
                long.Parse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture),
                long.Parse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture));
        }
        return new QueueSnapshot(
            ReadAtMs: (long)reply[1], Queue: true, Total: (long)reply[2], Available: (long)reply[3], StartsMs: (long)reply[4], EndsMs: (long)reply[5],
            Fenced: (long)reply[6] == 1, AdmitFactorMilli: admitMilli, TokenSeconds: (int)reply[8],
            Joined: (long)reply[9], Admitted: (long)reply[10], Lapsed: (long)reply[11], Waves: waves);
    }

    /// <summary>Counts these tickets' admissions as used, so their slots go to the next in line (queue-use.lua); idempotent.</summary>
    public async Task<long> UseAdmissionsAsync(IDatabaseAsync db, SkuKeys sku, IReadOnlyCollection<long> sequences)
    {
        var reply = (RedisResult[])(await QueueUse.EvaluateAsync(db, metrics, [sku.Queue, sku.QueueUsed], [.. sequences.Select(s => (RedisValue)s)]))!;
        return Code(reply) == ScriptCode.Done ? (long)reply[1] : throw Unexpected(QueueUse, Code(reply));
    }
}
