using System.Diagnostics;
using FlashSale.Engine.Redis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace FlashSale.Engine.Buckets;

/// <summary>
/// Moves stock between two buckets of one SKU. The buckets live in different slots (on a cluster, often on different
/// masters), so no script can touch both: a transfer is two idempotent steps keyed by one transfer id, the donor's
/// (transfer-out.lua: units out of its stock and total, the transfer kept open) and then the receiver's (transfer-in.lua:
/// the units in), and a close on the donor (transfer-close.lua). Units are never in two buckets at once; between the
/// steps they are in neither, held by the donor's open record. Whoever finds a transfer open — its initiator right away,
/// or the reconciler (<see cref="FinishAsync"/>) once it is older than <c>Reconciler:TransferGraceMs</c>, after a crash —
/// finishes it the same way: the receiver's step again (a repeat is a no-op), then the close; when the receiver can
/// never take the units (it was rebuilt by recovery since: a new epoch), the close gives them back to the donor. So no
/// unit is sold twice and none is stranded.
/// </summary>
public sealed partial class StockTransfers(IDatabase db, SkuScripts scripts, IOptions<BucketOptions> options, ILogger<StockTransfers> logger)
{
    /// <summary>
    /// Moves up to <paramref name="units"/> from <paramref name="donor"/> to <paramref name="receiver"/>, which the caller
    /// read at epoch <paramref name="receiverEpoch"/>; returns how many landed in the receiver now.
    /// </summary>
    public async Task<int> MoveAsync(SkuKeys donor, SkuKeys receiver, int units, string receiverEpoch)
    {
        var id = Guid.NewGuid().ToString("N");
        var taken = await scripts.TransferOutAsync(db, donor, id, units, receiver.Bucket, receiverEpoch);
        if (taken.Outcome is not (TransferOutOutcome.Taken or TransferOutOutcome.AlreadyTaken) || taken.Units == 0)
        {
            return 0;
        }
        if (options.Value.CrashAfterDonorStep)
        {
            LogCrashPoint(logger, id, taken.Units, donor.Member, receiver.Member);
            // The logger writes on a thread of its own: the line would die with the process.
            Console.Error.WriteLine($"crash point: transfer {id}, {taken.Units} unit(s) out of {donor.Member}, not into {receiver.Member}");
            // As kill -9 would: no shutdown, nothing flushed, the receiver's step never sent.
            Process.GetCurrentProcess().Kill();
        }
        return await FinishAsync(donor, new OpenTransfer(id, taken.Units, receiver.Bucket, receiverEpoch, "", 0));
    }

    /// <summary>
    /// Finishes an open transfer of <paramref name="donor"/>: the receiver's step, then the close (or, when the receiver
    /// can never take the units, the close that gives them back). Returns the units that landed in the receiver by this
    /// call; a fenced bucket leaves the transfer open for recovery.
    /// </summary>
    public async Task<int> FinishAsync(SkuKeys donor, OpenTransfer transfer)
    {
        var receiver = donor.InBucket(transfer.ToBucket);
        var added = await scripts.TransferInAsync(db, receiver, transfer.Id, transfer.Units, donor.Bucket, transfer.ToEpoch);
        switch (added)
        {
            case TransferInOutcome.Added or TransferInOutcome.AlreadyAdded:
                await scripts.TransferCloseAsync(db, donor, transfer.Id, landed: true);
                return added == TransferInOutcome.Added ? transfer.Units : 0;
            case TransferInOutcome.Void:
                if (await scripts.TransferCloseAsync(db, donor, transfer.Id, landed: false) == TransferCloseOutcome.Closed)
                {
                    LogGivenBack(logger, transfer.Id, transfer.Units, donor.Member, receiver.Member);
                }
                return 0;
            default:
                // Fenced (or not loaded): recovery shares the SKU's stock out again and forgets the open transfer.
                return 0;
        }
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Buckets:CrashAfterDonorStep: exiting after the donor's step of transfer {TransferId} ({Units} unit(s) out of {Donor}, not yet into {Receiver})")]
    private static partial void LogCrashPoint(ILogger logger, string transferId, int units, string donor, string receiver);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Transfer {TransferId}: {Receiver} was rebuilt since it began; its {Units} unit(s) went back to {Donor}")]
    private static partial void LogGivenBack(ILogger logger, string transferId, int units, string donor, string receiver);
}
