namespace FlashSale.Engine.Redis;

/// <summary>
/// The reply codes of every engine script, defined here once: the scripts see them as <c>CODE.NAME</c>
/// (generated into each script's preamble by <see cref="RedisScript"/>, e.g. <c>CODE.SOLD_OUT</c>), and
/// only the typed wrappers in <see cref="SkuScripts"/> decode them.
/// </summary>
public enum ScriptCode
{
    /// <summary>The script did what it was asked: created, released, adopted, loaded, …</summary>
    Done = 1,

    /// <summary>The idempotency key already owns this order; it is returned again.</summary>
    Replayed = 2,

    /// <summary>Done before, by an earlier call with the same arguments: nothing changed now.</summary>
    AlreadyDone = 3,

    /// <summary>The idempotency key owns an order of another quantity.</summary>
    KeyReused = 4,

    /// <summary>The SKU ledger does not hold the order.</summary>
    UnknownOrder = 5,

    /// <summary>Recovery was asked to lift a fence the SKU does not have: nothing changed.</summary>
    NotFenced = 6,

    /// <summary>The SKU is not loaded into Redis.</summary>
    NotWarmed = -1,

    NotStarted = -2,

    Ended = -3,

    PurchaseLimit = -4,

    SoldOut = -5,

    /// <summary>The ledger says the order is paid: its units are never released.</summary>
    OrderPaid = -6,

    /// <summary>The ledger says the order was cancelled and its units returned.</summary>
    OrderReleased = -7,

    /// <summary>
    /// The SKU is fenced: this Redis has forgotten decisions (its decision sequence fell behind one already
    /// seen, or its identity changed) and decides nothing until recovery has rebuilt it from the durable log.
    /// </summary>
    Fenced = -8,

    /// <summary>
    /// The SKU has no exact running counts of the units its ledger holds (it was loaded before they existed, or
    /// its ledger moved while they were being counted): nothing was written; count them (count.lua) and call again.
    /// </summary>
    NotCounted = -9,

    /// <summary>The SKU is open (its campaign has no waiting room): there is no queue to join or admit from.</summary>
    NoQueue = -10,

    /// <summary>The campaign has ended: nobody joins its queue any more.</summary>
    CampaignEnded = -11,

    /// <summary>
    /// A stock transfer's units can never land in the receiving bucket: it was rebuilt (a new epoch) since the transfer
    /// began. The donor gives them back (transfer-close.lua).
    /// </summary>
    TransferVoid = -12,

    /// <summary>
    /// The coupon cannot be used: its pool is empty, the buyer's limit of it is reached, the order is below its minimum
    /// spend, or the order number's coupon was cancelled before this Try (TCC's anti-hanging). Nothing was held.
    /// </summary>
    CouponUnavailable = -13,
}
