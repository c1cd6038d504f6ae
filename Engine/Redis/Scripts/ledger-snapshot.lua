-- Reads one SKU's side of the ledger at a single instant, for the reconciler. Writes nothing.
-- KEYS: 1 meta, 2 ledger, 3 outbox, 4 re-published.
-- Reply (C#: SkuScripts.LedgerSnapshotAsync):
--   { DONE, nowMs, total, available, { orderNo, record, ... }, { orderNo of each outbox entry, ... },
--     { orderNo, re-published at ms, ... } }
--   { NOT_WARMED, nowMs }
local now = now_ms()
local meta = redis.call('HMGET', KEYS[1], 'total', 'available')
if not meta[1] then
  return { CODE.NOT_WARMED, now }
end

local pending = {}
local entries = redis.call('XRANGE', KEYS[3], '-', '+')
for i = 1, #entries do
  local fields = entries[i][2]
  for j = 1, #fields, 2 do
    if fields[j] == 'orders' then
      for orderNo in string.gmatch(fields[j + 1], '%d+') do
        pending[#pending + 1] = orderNo
      end
      break
    elseif fields[j] == 'orderNo' then
      pending[#pending + 1] = fields[j + 1]
      break
    end
  end
end

return { CODE.DONE, now, tonumber(meta[1]), tonumber(meta[2]), redis.call('HGETALL', KEYS[2]), pending, redis.call('HGETALL', KEYS[4]) }
