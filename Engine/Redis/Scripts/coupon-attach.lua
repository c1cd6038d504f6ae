-- Notes that a tried coupon's order exists (the sweep found it in MySQL or in the SKU's ledger): T -> L, and the order
-- number leaves the sweep's list of tried locks, so it is not looked at again. Changes no count.
-- KEYS: 1 locks, 2 tried. ARGV: 1 order number.
-- Reply (C#: CouponScripts.AttachAsync): DONE noted now; ALREADY_DONE the lock was not in state T (nothing changed but
--        the list); UNKNOWN_ORDER no lock.
redis.call('ZREM', KEYS[2], ARGV[1])
local record = redis.call('HGET', KEYS[1], ARGV[1])
if not record then
  return CODE.UNKNOWN_ORDER
end
local l = lock_decode(record)
if l.state ~= 'T' then
  return CODE.ALREADY_DONE
end
l.state = 'L'
redis.call('HSET', KEYS[1], ARGV[1], lock_encode(l))
return CODE.DONE
