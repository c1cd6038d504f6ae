-- TCC Confirm of a coupon: the order is paid, its coupon is used for good (moved from the pool's locked count to its
-- redeemed count). KEYS: 1 meta, 2 locks, 3 tried. ARGV: 1 order number.
-- Reply (C#: CouponScripts.RedeemAsync): DONE redeemed now; ALREADY_DONE redeemed before; UNKNOWN_ORDER the pool has no
--        lock for the order; ORDER_RELEASED the lock was released (or cancelled before any Try).
local record = redis.call('HGET', KEYS[2], ARGV[1])
if not record then
  return CODE.UNKNOWN_ORDER
end
local l = lock_decode(record)
if l.state == 'R' then
  return CODE.ALREADY_DONE
elseif l.state == 'C' or l.state == 'X' then
  return CODE.ORDER_RELEASED
end
l.state = 'R'
redis.call('HSET', KEYS[2], ARGV[1], lock_encode(l))
redis.call('HINCRBY', KEYS[1], 'reserved', -1)
redis.call('HINCRBY', KEYS[1], 'sold', 1)
redis.call('ZREM', KEYS[3], ARGV[1])
return CODE.DONE
