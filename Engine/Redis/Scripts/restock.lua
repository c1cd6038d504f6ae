-- Sets a SKU's stock back to what its ledger says it must be, total minus the units the ledger
-- holds (R reserved, P paid: the running counts, read here so that no reservation can slip in between).
-- It lowers the stock to that at once; it raises it only up to ARGV[1], the caller's bound of total
-- minus the live orders MySQL knows, so a unit an order still holds is never put on sale.
-- KEYS: 1 meta. ARGV: 1 ceiling, 2 "campaignId:skuId".
-- Reply (C#: SkuScripts.RestockAsync): { DONE, before, after }, before = after when nothing changed;
--        { NOT_WARMED, 0, 0 }; { NOT_COUNTED, 0, 0 } the counts are not exact yet, nothing changed (count.lua first).
local meta = redis.call('HMGET', KEYS[1], 'total', 'available', 'reserved', 'sold', 'counted')
if not meta[1] then
  return { CODE.NOT_WARMED, 0, 0 }
end
local held = held_from_counts(meta[3], meta[4], meta[5])
if not held then
  return { CODE.NOT_COUNTED, 0, 0 }
end
local available = tonumber(meta[2])
local target = math.max(0, tonumber(meta[1]) - held)
if available > target then
  redis.call('HSET', KEYS[1], 'available', target)
  return { CODE.DONE, available, target }
end
target = math.min(target, tonumber(ARGV[1]))
if available < target then
  redis.call('HSET', KEYS[1], 'available', target)
  stock_returned(KEYS[1], ARGV[2])
  return { CODE.DONE, available, target }
end
return { CODE.DONE, available, available }
