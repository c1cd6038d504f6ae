-- Ends an open transfer on the donor (see transfer-out.lua). ARGV[2] = '1': the receiver has the units (transfer-in.lua
-- answered DONE or ALREADY_DONE), the transfer is closed. '0': the receiver never will (it answered TRANSFER_VOID), the
-- units come back to this bucket's stock and total. Once per transfer: a transfer that is not open any more (closed, or
-- voided by recovery, which shares the stock out again) changes nothing. A fenced bucket is left to recovery.
-- KEYS: 1 meta, 2 transfers:open. ARGV: 1 transfer id, 2 '1' landed / '0' never lands, 3 "campaignId:skuId".
-- Reply (C#: SkuScripts.TransferCloseAsync): DONE closed (or given back) now; ALREADY_DONE not open; FENCED nothing done.
local record = redis.call('HGET', KEYS[2], ARGV[1])
if not record then
  return CODE.ALREADY_DONE
end
local meta = redis.call('HMGET', KEYS[1], 'fenced', 'epoch')
if meta[1] then
  return CODE.FENCED
end
redis.call('HDEL', KEYS[2], ARGV[1])
local units, donorEpoch = string.match(record, '^o|(%d+)|%d+|[^|]*|([^|]*)|')
-- Only units taken in the bucket's current epoch come back: a record from before a recovery is that recovery's to settle.
if ARGV[2] == '0' and donorEpoch == (meta[2] or '0') then
  redis.call('HINCRBY', KEYS[1], 'available', tonumber(units))
  redis.call('HINCRBY', KEYS[1], 'total', tonumber(units))
  advance(KEYS[1])
  stock_returned(KEYS[1], ARGV[3])
end
return CODE.DONE
