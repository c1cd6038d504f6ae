using System.Globalization;
using StackExchange.Redis;

namespace FlashSale.Engine.Redis;

public enum TransferOutOutcome
{
    /// <summary>The units were taken now (possibly 0: the bucket had none).</summary>
    Taken,

    /// <summary>An earlier call with the same transfer id took them; nothing more was taken.</summary>
    AlreadyTaken,

    Fenced,
    NotWarmed,
}

/// <summary>transfer-out.lua's answer: what happened and how many units the transfer carries.</summary>
public readonly record struct TransferOutReply(TransferOutOutcome Outcome, int Units);

public enum TransferInOutcome
{
    Added,
    AlreadyAdded,

    /// <summary>The receiving bucket is fenced: nothing added; recovery settles the transfer.</summary>
    Fenced,

    /// <summary>The receiving bucket was rebuilt since the transfer began: the units never land there.</summary>
    Void,

    NotWarmed,
}

public enum TransferCloseOutcome
{
    /// <summary>Closed now: landed, or (undone) given back to the donor.</summary>
    Closed,

    /// <summary>Not open any more: closed before, or settled by recovery.</summary>
    NotOpen,

    /// <summary>The donor is fenced: left open for recovery.</summary>
    Fenced,
}

/// <summary>
/// A transfer the donor bucket gave units to and has not seen closed: <c>o|units|toBucket|toEpoch|donorEpoch|atMs</c> in
/// its <see cref="SkuKeys.TransfersOpen"/> hash (written by transfer-out.lua). <see cref="AtMs"/> is Redis's clock.
/// </summary>
public sealed record OpenTransfer(string Id, int Units, int ToBucket, string ToEpoch, string DonorEpoch, long AtMs)
{
    public static OpenTransfer Parse(string id, string record)
    {
        var parts = record.Split('|');
        if (parts.Length != 6 || parts[0] != "o"
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var units)
            || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var toBucket)
            || !long.TryParse(parts[5], NumberStyles.None, CultureInfo.InvariantCulture, out var atMs))
        {
            throw new FormatException($"Malformed open transfer {id}: '{record}'.");
        }
        return new OpenTransfer(id, units, toBucket, parts[3], parts[4], atMs);
    }
}

public sealed partial class SkuScripts
{
    private static readonly RedisScript TransferOut = RedisScript.Load("transfer-out.lua");
    private static readonly RedisScript TransferIn = RedisScript.Load("transfer-in.lua");
    private static readonly RedisScript TransferClose = RedisScript.Load("transfer-close.lua");
    private static readonly RedisScript Rebalance = RedisScript.Load("rebalance.lua");

    /// <summary>
    /// The donor's step: takes up to <paramref name="units"/> out of <paramref name="donor"/>'s stock and total for bucket
    /// <paramref name="toBucket"/>, which the caller read at epoch <paramref name="toEpoch"/>; idempotent per <paramref name="transferId"/>.
    /// </summary>
    public async Task<TransferOutReply> TransferOutAsync(IDatabaseAsync db, SkuKeys donor, string transferId, int units, int toBucket, string toEpoch)
    {
        var reply = (RedisResult[])(await TransferOut.EvaluateAsync(db, metrics, [donor.Meta, donor.Transfers, donor.TransfersOpen],
            [transferId, units, toBucket, toEpoch]))!;
        var moved = (int)reply[1];
        return Code(reply) switch
        {
            ScriptCode.Done => new(TransferOutOutcome.Taken, moved),
            ScriptCode.AlreadyDone => new(TransferOutOutcome.AlreadyTaken, moved),
            ScriptCode.Fenced => new(TransferOutOutcome.Fenced, 0),
            ScriptCode.NotWarmed => new(TransferOutOutcome.NotWarmed, 0),
            var code => throw Unexpected(TransferOut, code),
        };
    }

    /// <summary>The receiver's step: adds the transfer's units to <paramref name="receiver"/>, once per transfer id, if it is still at <paramref name="epoch"/>.</summary>
    public async Task<TransferInOutcome> TransferInAsync(IDatabaseAsync db, SkuKeys receiver, string transferId, int units, int fromBucket, string epoch)
    {
        var code = Code(await TransferIn.EvaluateAsync(db, metrics, [receiver.Meta, receiver.Transfers],
            [transferId, units, fromBucket, epoch, receiver.SkuMember]));
        return code switch
        {
            ScriptCode.Done => TransferInOutcome.Added,
            ScriptCode.AlreadyDone => TransferInOutcome.AlreadyAdded,
            ScriptCode.Fenced => TransferInOutcome.Fenced,
            ScriptCode.TransferVoid => TransferInOutcome.Void,
            ScriptCode.NotWarmed => TransferInOutcome.NotWarmed,
            _ => throw Unexpected(TransferIn, code),
        };
    }

    /// <summary>
    /// Ends an open transfer on <paramref name="donor"/>: <paramref name="landed"/> true closes it, false gives its units
    /// back to the donor (the receiver answered <see cref="TransferInOutcome.Void"/>).
    /// </summary>
    public async Task<TransferCloseOutcome> TransferCloseAsync(IDatabaseAsync db, SkuKeys donor, string transferId, bool landed)
    {
        var code = Code(await TransferClose.EvaluateAsync(db, metrics, [donor.Meta, donor.TransfersOpen],
            [transferId, landed ? "1" : "0", donor.SkuMember]));
        return code switch
        {
            ScriptCode.Done => TransferCloseOutcome.Closed,
            ScriptCode.AlreadyDone => TransferCloseOutcome.NotOpen,
            ScriptCode.Fenced => TransferCloseOutcome.Fenced,
            _ => throw Unexpected(TransferClose, code),
        };
    }

    /// <summary>The transfers <paramref name="donor"/> gave units to that are still open.</summary>
    public static async Task<IReadOnlyList<OpenTransfer>> OpenTransfersAsync(IDatabaseAsync db, SkuKeys donor)
        => [.. (await db.HashGetAllAsync(donor.TransfersOpen)).Select(e => OpenTransfer.Parse(e.Name.ToString(), e.Value.ToString()))];

    /// <summary>Recovery's step for a fenced bucket: its total becomes <paramref name="total"/>, its open transfers are forgotten. False when it was not fenced (nothing changed).</summary>
    public async Task<bool> RebalanceAsync(IDatabaseAsync db, SkuKeys bucket, long total)
    {
        var code = Code(await Rebalance.EvaluateAsync(db, metrics, [bucket.Meta, bucket.TransfersOpen], [total]));
        return code switch
        {
            ScriptCode.Done => true,
            ScriptCode.NotFenced or ScriptCode.NotWarmed => false,
            _ => throw Unexpected(Rebalance, code),
        };
    }
}
