-- Puts back a coupon that an order MySQL holds live (pending or paid) uses while the pool does not hold it (Redis came back
-- from an older state, or the coupon was given back by mistake): locks it for the order again and takes it out of the
-- pool's available coupons, so that nobody else gets it.
-- KEYS: 1 meta, 2 users, 3 locks, 4 idempotency. ARGV: 1 order number, 2 userId, 3 skuId, 4 discountMinor,
--       5 createdMs, 6 state (L locked | R redeemed), 7 idempotency key.
-- Reply (C#: CouponScripts.AdoptAsync): { DONE, short } adopted, short 1 when no coupon was left to take (the pool gave out
--        one coupon too many: an operator must resolve it); { ALREADY_DONE, 0 } the pool holds it; { NOT_WARMED, 0 }.
local record = redis.call('HGET', KEYS[3], ARGV[1])
if record and lock_holds(lock_decode(record)) then
  return { CODE.ALREADY_DONE, 0 }
end
local available = tonumber(redis.call('HGET', KEYS[1], 'available'))
if not available then
  return { CODE.NOT_WARMED, 0 }
end
local take = math.min(available, 1)
redis.call('HINCRBY', KEYS[1], 'available', -take)
advance(KEYS[1])
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
redis.call('HSETNX', KEYS[4], ARGV[2] .. ':' .. ARGV[3] .. ':' .. ARGV[7], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], lock_encode({ user = ARGV[2], sku = ARGV[3], discount = tonumber(ARGV[4]), created = tonumber(ARGV[5]), state = ARGV[6] }))
redis.call('HINCRBY', KEYS[1], ARGV[6] == 'R' and 'sold' or 'reserved', 1)
return { CODE.DONE, 1 - take }
