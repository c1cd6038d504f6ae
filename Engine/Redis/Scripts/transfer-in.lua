-- The receiver's step of a stock transfer (see transfer-out.lua): adds the units the donor took to this bucket's stock
-- and total, once per transfer id. It refuses while the bucket is fenced, and for good once the bucket is at another
-- epoch than the caller read before the donor's step: recovery began a new epoch and shared the SKU's stock out again
-- from its running counts, so units taken before it must never land after it (the donor gives them back instead).
-- A decision: advances the bucket's sequence; stock came back here, so the sold-out answers are dropped.
-- KEYS: 1 meta, 2 transfers. ARGV: 1 transfer id, 2 units, 3 the giving bucket, 4 the epoch this bucket must be at,
--       5 "campaignId:skuId" (the stock channel).
-- Reply (C#: SkuScripts.TransferInAsync): DONE added now; ALREADY_DONE added before; FENCED nothing added (recovery
--        settles it); TRANSFER_VOID this bucket was rebuilt since, the units never land here; NOT_WARMED.
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then
  return CODE.ALREADY_DONE
end
local meta = redis.call('HMGET', KEYS[1], 'available', 'total', 'fenced', 'epoch')
if not meta[1] then
  return CODE.NOT_WARMED
end
if meta[3] then
  return CODE.FENCED
end
if (meta[4] or '0') ~= ARGV[4] then
  return CODE.TRANSFER_VOID
end
local units = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'available', tonumber(meta[1]) + units, 'total', tonumber(meta[2]) + units)
advance(KEYS[1])
redis.call('HSET', KEYS[2], ARGV[1], string.format('i|%d|%s|%d', units, ARGV[3], now_ms()))
stock_returned(KEYS[1], ARGV[5])
return CODE.DONE
