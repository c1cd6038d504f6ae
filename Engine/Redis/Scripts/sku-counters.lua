-- The reconciler's constant-time read of one SKU, at a single instant: its stock, the running counts of the units
-- its ledger holds (see count_state in the prelude), its decision sequence, and how many events wait in its outbox.
-- Never reads the ledger itself: the reconciler walks that page by page. Writes nothing.
-- KEYS: 1 meta, 2 outbox.
-- Reply (C#: SkuScripts.SkuCountersAsync): { DONE, nowMs, total, available, reserved, sold, counted (1|0), seq,
--        outbox length }; { NOT_WARMED, nowMs }.
local now = now_ms()
local meta = redis.call('HMGET', KEYS[1], 'total', 'available', 'reserved', 'sold', 'counted', 'seq')
if not meta[1] then
  return { CODE.NOT_WARMED, now }
end
return { CODE.DONE, now, tonumber(meta[1]), tonumber(meta[2]), tonumber(meta[3] or '0'), tonumber(meta[4] or '0'),
  meta[5] and 1 or 0, tonumber(meta[6] or '0'), redis.call('XLEN', KEYS[2]) }
