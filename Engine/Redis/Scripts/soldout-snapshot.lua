-- What an Ingress needs to answer sold-out from memory: the stock, its generation, and the
-- idempotency fields that already hold an order (their replays must still reach Redis).
-- KEYS: 1 meta, 2 idempotency.
-- Reply (C#: SkuScripts.SoldOutSnapshotAsync): { DONE, available, gen, field1, field2, ... } (fields only
--        when available is 0); { NOT_WARMED }.
local meta = redis.call('HMGET', KEYS[1], 'available', 'gen')
if not meta[1] then
  return { CODE.NOT_WARMED }
end
local reply = { CODE.DONE, tonumber(meta[1]), meta[2] }
if tonumber(meta[1]) > 0 then
  return reply
end
local fields = redis.call('HKEYS', KEYS[2])
for i = 1, #fields do
  reply[#reply + 1] = fields[i]
end
return reply
