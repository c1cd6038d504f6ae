-- Loads one SKU's definition and stock. KEYS: 1 meta, 2 ledger.
-- ARGV: 1 total, 2 startsMs, 3 endsMs, 4 perUserLimit, 5 priceMinor, 6 paymentWindowSeconds, 7 force ("1"),
--       8 "campaignId:skuId"
-- Reply (C#: SkuScripts.WarmupAsync): { DONE, available } loaded; { ALREADY_DONE, available } refused
--        because the SKU is already live.
local live = redis.call('EXISTS', KEYS[1]) == 1
if live and ARGV[7] ~= '1' then
  return { CODE.ALREADY_DONE, tonumber(redis.call('HGET', KEYS[1], 'available')) }
end

-- Units the ledger still holds are not for sale again: a forced reload never hands out stock that buyers already have.
local available = math.max(0, tonumber(ARGV[1]) - held_units(KEYS[2]))
redis.call('HSET', KEYS[1],
  'total', ARGV[1], 'available', available,
  'starts', ARGV[2], 'ends', ARGV[3], 'limit', ARGV[4],
  'price', ARGV[5], 'window', ARGV[6])
-- A SKU loaded for the first time starts its decision epoch (see reserve-many.lua); a reload keeps it.
if redis.call('HEXISTS', KEYS[1], 'epoch') == 0 then
  redis.call('HSET', KEYS[1], 'epoch', now_ms())
end
-- The stock generation tells Ingress instances that a sold-out answer they cached is stale.
stock_returned(KEYS[1], ARGV[8])
return { CODE.DONE, available }
