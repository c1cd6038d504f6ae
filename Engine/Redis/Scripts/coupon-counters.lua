-- The reconciler's constant-time read of one coupon pool, at one instant: its coupons, the running counts of those its
-- locks hold, its decision sequence, and how many tried locks (order not yet known to exist) are younger than the grace.
-- KEYS: 1 meta, 2 tried. ARGV: 1 grace (ms).
-- Reply (C#: CouponScripts.CountersAsync): { DONE, nowMs, total, available, locked, redeemed, seq, tried, tried young };
--        { NOT_WARMED, nowMs }.
local now = now_ms()
local meta = redis.call('HMGET', KEYS[1], 'total', 'available', 'reserved', 'sold', 'seq')
if not meta[1] then
  return { CODE.NOT_WARMED, now }
end
return { CODE.DONE, now, tonumber(meta[1]), tonumber(meta[2]), tonumber(meta[3] or '0'), tonumber(meta[4] or '0'),
  tonumber(meta[5] or '0'), redis.call('ZCARD', KEYS[2]), redis.call('ZCOUNT', KEYS[2], now - tonumber(ARGV[1]), '+inf') }
