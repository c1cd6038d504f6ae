-- Sets the running counts (reserved, sold) of a SKU whose ledger was written before they existed, from a walk
-- of its ledger that the caller made page by page (HSCAN, never the whole ledger in one command). The walk is
-- not a snapshot, so its sums are taken only if no ledger entry changed state while it ran: every script that
-- creates an entry or returns one's units advances `seq`, and marking one paid raises `sold` (never lowered), so
-- both unchanged since the caller read them before its walk means the ledger held exactly what the walk counted.
-- KEYS: 1 meta. ARGV: 1 reserved units, 2 sold units, 3 and 4 `seq` and `sold` as read before the walk ('' absent).
-- Reply (C#: SkuScripts.CountLedgerAsync): DONE counts set; ALREADY_DONE the SKU had exact counts (nothing
--        changed); NOT_COUNTED the ledger moved during the walk, nothing written: walk again.
local meta = redis.call('HMGET', KEYS[1], 'seq', 'sold', 'counted')
if meta[3] then
  return CODE.ALREADY_DONE
end
if (meta[1] or '') ~= ARGV[3] or (meta[2] or '') ~= ARGV[4] then
  return CODE.NOT_COUNTED
end
redis.call('HSET', KEYS[1], 'reserved', ARGV[1], 'sold', ARGV[2], 'counted', 1)
return CODE.DONE
