namespace FlashSale.Engine.Reconciliation;

/// <summary>
/// Where a walk over a SKU's orders stands: the ledger's hash (one of its shards) and HSCAN cursor in it, then MySQL's live orders shard by shard and
/// status by status (the last order number read), and how many pages the current call may still take. The loop keeps
/// one per SKU, so a long walk is spread over rounds; a check that must see everything takes a fresh one without a budget.
/// </summary>
internal sealed class WalkCursor
{
    private readonly int _pagesPerCall;
    private int _pagesLeft;

    private WalkCursor(int pagesPerCall)
    {
        _pagesPerCall = pagesPerCall;
        _pagesLeft = pagesPerCall;
    }

    /// <summary>The ledger hash being walked: its index among <see cref="Redis.LedgerLayout.KeysOf"/>.</summary>
    public int LedgerHash { get; private set; }

    /// <summary>The HSCAN cursor in that hash; 0 before its first page.</summary>
    public ulong LedgerPosition { get; private set; }

    public bool LedgerDone { get; private set; }

    /// <summary>The shard whose live orders are being walked.</summary>
    public int Shard { get; private set; }

    /// <summary>Index of the status being walked on that shard.</summary>
    public int Status { get; private set; }

    /// <summary>The last order number read on that shard and status: the next page starts after it.</summary>
    public long DbPosition { get; private set; }

    /// <summary>Every order, in one call: for checks whose answer must cover the whole SKU.</summary>
    public static WalkCursor Whole() => new(int.MaxValue);

    /// <summary>No order at all: the counts alone.</summary>
    public static WalkCursor CountsOnly() => new(0);

    /// <summary>A walk that takes at most <paramref name="pagesPerRound"/> pages a round and goes on in the next.</summary>
    public static WalkCursor Resumable(int pagesPerRound) => new(pagesPerRound);

    /// <summary>A new round: the page budget is full again, the position stays.</summary>
    public WalkCursor ForRound()
    {
        _pagesLeft = _pagesPerCall;
        return this;
    }

    /// <summary>This round takes at most <paramref name="pages"/> pages (a SKU that is selling: see <see cref="ReconcilerOptions.WalkPagesPerSellingRound"/>).</summary>
    public void Limit(int pages) => _pagesLeft = Math.Min(_pagesLeft, pages);

    public bool TakePage()
    {
        if (_pagesLeft <= 0)
        {
            return false;
        }
        _pagesLeft--;
        return true;
    }

    /// <summary>The ledger's part is not needed (recovery only looks for orders the ledger lacks).</summary>
    public void SkipLedger() => LedgerDone = true;

    /// <summary>
    /// Records where a page stopped: in hash <paramref name="hash"/> at HSCAN cursor <paramref name="next"/>, 0 meaning
    /// that hash is done; the ledger is done after the last of its <paramref name="hashes"/>.
    /// </summary>
    public void LedgerPageRead(int hash, ulong next, int hashes)
    {
        if (next != 0)
        {
            LedgerHash = hash;
            LedgerPosition = next;
            return;
        }
        LedgerHash = hash + 1;
        LedgerPosition = 0;
        LedgerDone = LedgerHash >= hashes;
    }

    public bool DbDone(int shards) => Shard >= shards;

    /// <param name="last">The last order number of a full page; null when the page was the last of its shard and status.</param>
    public void DbPageRead(long? last, int statuses)
    {
        if (last is { } orderNo)
        {
            DbPosition = orderNo;
            return;
        }
        DbPosition = 0;
        if (++Status == statuses)
        {
            Status = 0;
            Shard++;
        }
    }

    /// <summary>The walk reached the end of both sides: the next one starts a new pass from the beginning.</summary>
    public void Restart()
    {
        LedgerHash = 0;
        LedgerPosition = 0;
        LedgerDone = false;
        Shard = 0;
        Status = 0;
        DbPosition = 0;
    }
}
