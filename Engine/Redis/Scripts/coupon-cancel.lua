-- TCC Cancel of a coupon: gives the coupon an order number locked back to the pool, at most once. Used when the stock's
-- Try failed, when the order is cancelled (buyer, failed payment, payment-window timeout), and by the orphan sweep.
-- A Cancel for an order number no Try reached (an "empty rollback") succeeds and changes nothing, but is recorded (state
-- X), so that a Try arriving after it is refused instead of leaving a coupon locked for ever ("hanging").
-- KEYS: 1 meta, 2 users, 3 locks, 4 tried. ARGV: 1 order number.
-- Reply (C#: CouponScripts.CancelAsync): DONE released now; ALREADY_DONE released (or cancelled) before;
--        UNKNOWN_ORDER no Try was made: the cancel is recorded, nothing else changed; ORDER_PAID the coupon is
--        redeemed (never given back); NOT_WARMED the pool is not loaded.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return CODE.NOT_WARMED
end
local record = redis.call('HGET', KEYS[3], ARGV[1])
if not record then
  redis.call('HSET', KEYS[3], ARGV[1], lock_encode({ user = '0', sku = '0', discount = 0, created = now_ms(), state = 'X' }))
  return CODE.UNKNOWN_ORDER
end
local l = lock_decode(record)
if l.state == 'C' or l.state == 'X' then
  return CODE.ALREADY_DONE
elseif l.state == 'R' then
  return CODE.ORDER_PAID
end
l.state = 'C'
redis.call('HSET', KEYS[3], ARGV[1], lock_encode(l))
redis.call('HINCRBY', KEYS[1], 'available', 1)
redis.call('HINCRBY', KEYS[1], 'reserved', -1)
advance(KEYS[1])
-- The buyer may use the coupon again at once.
if tonumber(redis.call('HINCRBY', KEYS[2], l.user, -1)) <= 0 then
  redis.call('HDEL', KEYS[2], l.user)
end
redis.call('ZREM', KEYS[4], ARGV[1])
return CODE.DONE
