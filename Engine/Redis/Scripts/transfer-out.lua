-- The donor's step of a stock transfer between two buckets of one SKU (Engine/Buckets/StockTransfers.cs): takes up to
-- ARGV[2] units out of this bucket's stock AND its total (so available + reserved + sold = total holds in every bucket at
-- every moment), and keeps the transfer open (transfers:open) until the receiver's step is known to be done or known
-- never to happen (transfer-close.lua). Keyed by the transfer id: sent again, it answers what it did the first time and
-- takes nothing more. A decision like a reservation: it advances the bucket's decision sequence.
-- KEYS: 1 meta, 2 transfers, 3 transfers:open.
-- ARGV: 1 transfer id, 2 units asked, 3 the receiving bucket, 4 the receiving bucket's epoch as the caller read it.
-- The record (C#: OpenTransfer): o|units|toBucket|toEpoch|donorEpoch|atMs.
-- Reply (C#: SkuScripts.TransferOutAsync): { DONE, units } taken now (0 when the bucket had none: recorded all the same);
--        { ALREADY_DONE, units } taken by an earlier call with this id; { FENCED, 0 } the bucket is fenced, nothing taken;
--        { NOT_WARMED, 0 }.
local earlier = redis.call('HGET', KEYS[2], ARGV[1])
if earlier then
  return { CODE.ALREADY_DONE, tonumber(string.match(earlier, '^o|(%d+)|')) }
end
local meta = redis.call('HMGET', KEYS[1], 'available', 'total', 'fenced', 'epoch')
if not meta[1] then
  return { CODE.NOT_WARMED, 0 }
end
if meta[3] then
  return { CODE.FENCED, 0 }
end
local available = tonumber(meta[1])
local units = math.max(0, math.min(available, tonumber(ARGV[2])))
local record = string.format('o|%d|%s|%s|%s|%d', units, ARGV[3], ARGV[4], meta[4] or '0', now_ms())
redis.call('HSET', KEYS[2], ARGV[1], record)
if units > 0 then
  redis.call('HSET', KEYS[1], 'available', available - units, 'total', tonumber(meta[2]) - units)
  advance(KEYS[1])
  redis.call('HSET', KEYS[3], ARGV[1], record)
end
return { CODE.DONE, units }
