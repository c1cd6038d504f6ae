-- Loads one SKU's definition and stock. KEYS: 1 meta, 2 ledger.
-- ARGV: 1 total, 2 startsMs, 3 endsMs, 4 perUserLimit, 5 priceMinor, 6 paymentWindowSeconds, 7 force ("1"),
--       8 stock signal message ("campaignId:skuId")
-- Reply: { 1, available } loaded; { 0, available } refused because the SKU is already live.
local live = redis.call('EXISTS', KEYS[1]) == 1
if live and ARGV[7] ~= '1' then
  return { 0, tonumber(redis.call('HGET', KEYS[1], 'available')) }
end

-- Units the ledger still holds (state R reserved or P paid) are not for sale again:
-- a forced reload never hands out stock that buyers already have.
local held = 0
local records = redis.call('HVALS', KEYS[2])
for i = 1, #records do
  local quantity, state = string.match(records[i], '^[^|]*|([^|]*)|[^|]*|[^|]*|[^|]*|(%a)')
  if state ~= 'C' then
    held = held + tonumber(quantity)
  end
end

local total = tonumber(ARGV[1])
local available = total - held
if available < 0 then
  available = 0
end

redis.call('HSET', KEYS[1],
  'total', ARGV[1], 'available', available,
  'starts', ARGV[2], 'ends', ARGV[3], 'limit', ARGV[4],
  'price', ARGV[5], 'window', ARGV[6])
-- The stock generation tells Ingress instances that a sold-out answer they cached is stale.
redis.call('HINCRBY', KEYS[1], 'gen', 1)
redis.call('PUBLISH', 'fs:stock-returned', ARGV[8])
return { 1, available }
