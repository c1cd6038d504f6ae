-- Loads one SKU's definition and stock. KEYS: 1 meta, 2 ledger.
-- ARGV: 1 total, 2 startsMs, 3 endsMs, 4 perUserLimit, 5 priceMinor, 6 paymentWindowSeconds, 7 force ("1"),
--       8 "campaignId:skuId", 9 admit factor in thousandths (0: open, no waiting room), 10 admission token seconds
-- Reply (C#: SkuScripts.WarmupAsync): { DONE, available } loaded; { ALREADY_DONE, available } refused
--        because the SKU is already live; { NOT_COUNTED, 0 } nothing written: the ledger holds entries but the
--        SKU has no exact running counts (loaded before they existed), count.lua must set them first.
-- Live means loaded (total set): the running counts alone do not make a SKU live.
local meta = redis.call('HMGET', KEYS[1], 'total', 'available', 'reserved', 'sold', 'counted', 'shards')
if meta[1] and ARGV[7] ~= '1' then
  return { CODE.ALREADY_DONE, tonumber(meta[2]) }
end

-- Units the ledger still holds are not for sale again: a forced reload never hands out stock that buyers already
-- have. A first load starts the counts at 0 with an empty ledger; a reload keeps them, they are the ledger's.
local held = held_from_counts(meta[3], meta[4], meta[5])
if not held then
  if meta[6] or redis.call('EXISTS', KEYS[2]) == 1 then
    return { CODE.NOT_COUNTED, 0 }
  end
  redis.call('HSET', KEYS[1], 'reserved', 0, 'sold', 0, 'counted', 1)
  held = 0
end
-- A first load splits the ledger into hashes of about 48 orders each (prelude.lua's ledger_key), at most 65,536 of
-- them, so that a walk over the ledger never has more hashes to visit than that whatever the stock; the number is
-- kept for the SKU's life, and a SKU whose ledger an older engine wrote as one hash keeps that.
if not meta[1] and not meta[6] and redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('HSET', KEYS[1], 'shards', math.min(65536, math.max(1, math.ceil(tonumber(ARGV[1]) / 48))))
end
local available = math.max(0, tonumber(ARGV[1]) - held)
redis.call('HSET', KEYS[1],
  'total', ARGV[1], 'available', available,
  'starts', ARGV[2], 'ends', ARGV[3], 'limit', ARGV[4],
  'price', ARGV[5], 'window', ARGV[6])
-- The waiting room is part of the definition and written with the stock, in the same script: an Ingress never sees a
-- queue-mode SKU loaded without its admission (it would let buyers in without a token).
if tonumber(ARGV[9]) > 0 then
  redis.call('HSET', KEYS[1], 'admit', ARGV[9], 'admit_ttl', ARGV[10])
else
  redis.call('HDEL', KEYS[1], 'admit', 'admit_ttl')
end
-- A SKU loaded for the first time starts its decision epoch (see reserve-many.lua); a reload keeps it.
if redis.call('HEXISTS', KEYS[1], 'epoch') == 0 then
  redis.call('HSET', KEYS[1], 'epoch', now_ms())
end
-- The stock generation tells Ingress instances that a sold-out answer they cached is stale.
stock_returned(KEYS[1], ARGV[8])
return { CODE.DONE, available }
