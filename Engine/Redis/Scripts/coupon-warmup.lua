-- Loads one coupon pool: its quantity and terms. A pool's meta hash has a SKU's layout (total, available, reserved =
-- coupons locked, sold = coupons redeemed, counted, seq, epoch, fenced), so fence.lua, recover.lua and restock.lua serve it.
-- KEYS: 1 meta. ARGV: 1 total, 2 discountMinor, 3 minSpendMinor, 4 perUserLimit, 5 startsMs, 6 endsMs, 7 force ("1").
-- Reply (C#: CouponScripts.WarmupAsync): { DONE, available } loaded; { ALREADY_DONE, available } refused: the pool is
--        live already. A forced reload sets available to total minus the coupons its locks hold (locked or redeemed).
local meta = redis.call('HMGET', KEYS[1], 'total', 'available', 'reserved', 'sold')
if meta[1] and ARGV[7] ~= '1' then
  return { CODE.ALREADY_DONE, tonumber(meta[2]) }
end
if not meta[1] then
  -- Counted from its first load: every script that changes a lock's state keeps the counts.
  redis.call('HSET', KEYS[1], 'reserved', 0, 'sold', 0, 'counted', 1)
end
local held = tonumber(meta[3] or '0') + tonumber(meta[4] or '0')
local available = math.max(0, tonumber(ARGV[1]) - held)
redis.call('HSET', KEYS[1], 'total', ARGV[1], 'available', available, 'discount', ARGV[2], 'minspend', ARGV[3],
  'limit', ARGV[4], 'starts', ARGV[5], 'ends', ARGV[6])
-- A pool loaded for the first time starts its decision epoch (see coupon-try.lua); a reload keeps it.
if redis.call('HEXISTS', KEYS[1], 'epoch') == 0 then
  redis.call('HSET', KEYS[1], 'epoch', now_ms())
end
return { CODE.DONE, available }
