-- TCC Try of a coupon: locks one coupon of the pool for an order number, idempotently. The first of the two Tries of a
-- couponed reservation (the second is the stock's, reserve-many.lua on the SKU, which lives under another hash tag: no
-- script holds both). A retry with the same Idempotency-Key finds the order number its earlier Try locked a coupon for and
-- gets it back, so the stock's Try is made under that number and the buyer's limit is not taken twice. An order number a
-- Cancel reached first (coupon-cancel.lua recorded it) is refused: a late Try never leaves a hanging lock.
-- KEYS: 1 meta, 2 users, 3 locks, 4 idempotency, 5 tried
-- ARGV: 1 order number (allocated by the caller), 2 userId, 3 skuId, 4 idempotency key, 5 the order's spend
--       (price × quantity, minor units), 6 and 7 the highest (sequence, epoch) of this pool the caller has seen.
-- Reply (C#: CouponScripts.TryAsync): { code, orderNo or reason, discountMinor, epoch, seq }
--   DONE, orderNo         locked now, for the order number given; seq is the lock's decision sequence
--   REPLAYED, orderNo     the key's earlier Try (or this order number's) holds a coupon already: that order number
--   COUPON_UNAVAILABLE, reason   'empty', 'limit', 'min-spend' or 'cancelled' (the order number was cancelled before)
--   NOT_WARMED / NOT_STARTED / ENDED / FENCED
-- A refusal changes nothing (but the fence a pool behind a caller raises).
local meta = redis.call('HMGET', KEYS[1], 'total', 'available', 'discount', 'minspend', 'limit', 'starts', 'ends', 'seq', 'epoch', 'fenced')
if not meta[1] then
  return { CODE.NOT_WARMED, 0, 0, 0, 0 }
end
local available, discount, minSpend, limit = tonumber(meta[2]), tonumber(meta[3]), tonumber(meta[4]), tonumber(meta[5])
local starts, ends = tonumber(meta[6]), tonumber(meta[7])
local seq, epoch = tonumber(meta[8] or '0'), tonumber(meta[9] or '0')
local orderNo, user = ARGV[1], ARGV[2]
local field = user .. ':' .. ARGV[3] .. ':' .. ARGV[4]

-- A retry with the same key: the order number its earlier Try locked a coupon for, while that coupon is still held.
-- (A coupon given back, because the stock's Try failed or the order was cancelled, makes the retry a new attempt.)
local prior = redis.call('HGET', KEYS[4], field)
if prior then
  local record = redis.call('HGET', KEYS[3], prior)
  if record then
    local l = lock_decode(record)
    if lock_holds(l) then
      return { CODE.REPLAYED, prior, l.discount, epoch, seq }
    end
  end
end
-- The same order number again: a Try is idempotent per order number, and one a Cancel reached first is refused.
local existing = redis.call('HGET', KEYS[3], orderNo)
if existing then
  local l = lock_decode(existing)
  if lock_holds(l) then
    return { CODE.REPLAYED, orderNo, l.discount, epoch, seq }
  end
  return { CODE.COUPON_UNAVAILABLE, 'cancelled', 0, epoch, seq }
end

if meta[10] then
  return { CODE.FENCED, 0, 0, epoch, seq }
end
-- A pool behind what a caller saw lost decisions (a restore, a failover to a lagging replica): fenced, like a SKU.
local seenSeq, seenEpoch = tonumber(ARGV[6]), tonumber(ARGV[7])
if epoch < seenEpoch or (epoch == seenEpoch and seq < seenSeq) then
  fence(KEYS[1], string.format('behind: at %d/%d, a caller saw %d/%d', epoch, seq, seenEpoch, seenSeq))
  return { CODE.FENCED, 0, 0, epoch, seq }
end
local now = now_ms()
if now < starts then
  return { CODE.NOT_STARTED, 0, 0, epoch, seq }
elseif now >= ends then
  return { CODE.ENDED, 0, 0, epoch, seq }
end
local spend = tonumber(ARGV[5])
-- A coupon never makes an order free: the order must reach the minimum spend and be worth more than the discount.
if spend < minSpend or spend <= discount then
  return { CODE.COUPON_UNAVAILABLE, 'min-spend', 0, epoch, seq }
end
if tonumber(redis.call('HGET', KEYS[2], user) or '0') >= limit then
  return { CODE.COUPON_UNAVAILABLE, 'limit', 0, epoch, seq }
end
if available < 1 then
  return { CODE.COUPON_UNAVAILABLE, 'empty', 0, epoch, seq }
end

seq = seq + 1
redis.call('HSET', KEYS[1], 'available', available - 1, 'seq', seq)
redis.call('HINCRBY', KEYS[1], 'reserved', 1)
redis.call('HINCRBY', KEYS[2], user, 1)
redis.call('HSET', KEYS[3], orderNo, lock_encode({ user = user, sku = ARGV[3], discount = discount, created = now, state = 'T' }))
redis.call('HSET', KEYS[4], field, orderNo)
redis.call('ZADD', KEYS[5], now, orderNo)
return { CODE.DONE, orderNo, discount, epoch, seq }
