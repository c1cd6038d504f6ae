-- Recovery of a SKU split into buckets (Engine/Reconciliation/SkuRecovery.cs): while every bucket of the SKU is fenced,
-- sets this bucket's total to its new share of the SKU's stock (the units its ledger holds plus a share of the units
-- nobody holds), and forgets the transfers it gave units to that are still open: the new shares account for every unit,
-- so those units must neither land nor come back (a late receiver's step finds a new epoch once recover.lua ran).
-- recover.lua then sets the stock to total − held and lifts the fence, bucket by bucket.
-- KEYS: 1 meta, 2 transfers:open. ARGV: 1 the bucket's new total.
-- Reply (C#: SkuScripts.RebalanceAsync): DONE; NOT_FENCED nothing changed (only a fenced bucket is rebalanced); NOT_WARMED.
local meta = redis.call('HMGET', KEYS[1], 'total', 'fenced')
if not meta[1] then
  return CODE.NOT_WARMED
end
if not meta[2] then
  return CODE.NOT_FENCED
end
redis.call('HSET', KEYS[1], 'total', ARGV[1])
redis.call('DEL', KEYS[2])
return CODE.DONE
