-- Sets a SKU's stock back to what its ledger says it must be, total minus the units the ledger
-- holds (R reserved, P paid), counted here so that no reservation can slip in between.
-- It lowers the stock to that at once; it raises it only up to ARGV[1], the caller's bound of total
-- minus the live orders MySQL knows, so a unit an order still holds is never put on sale.
-- KEYS: 1 meta, 2 ledger. ARGV: 1 ceiling, 2 stock signal message ("campaignId:skuId").
-- Reply: { before, after }, equal when nothing changed; { -1, -1 } when the SKU is not warmed up.
local meta = redis.call('HMGET', KEYS[1], 'total', 'available')
if not meta[1] then
  return { -1, -1 }
end
local held = 0
local records = redis.call('HVALS', KEYS[2])
for i = 1, #records do
  local quantity, state = string.match(records[i], '^[^|]*|([^|]*)|[^|]*|[^|]*|[^|]*|(%a)')
  if state ~= 'C' then
    held = held + tonumber(quantity)
  end
end

local available = tonumber(meta[2])
local target = math.max(0, tonumber(meta[1]) - held)
if available > target then
  redis.call('HSET', KEYS[1], 'available', target)
  return { available, target }
end
target = math.min(target, tonumber(ARGV[1]))
if available < target then
  redis.call('HSET', KEYS[1], 'available', target)
  redis.call('HINCRBY', KEYS[1], 'gen', 1)
  redis.call('PUBLISH', 'fs:stock-returned', ARGV[2])
  return { available, target }
end
return { available, available }
