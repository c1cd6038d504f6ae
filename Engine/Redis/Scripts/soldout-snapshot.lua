-- What an Ingress needs to answer sold-out from memory: the stock, its generation, and the
-- idempotency fields that already hold an order (their replays must still reach Redis).
-- KEYS: 1 meta, 2 idempotency. Reply: { available, gen, field1, field2, ... }
local meta = redis.call('HMGET', KEYS[1], 'available', 'gen')
if not meta[1] then
  return { -1, '0' }
end
local reply = { tonumber(meta[1]), meta[2] }
if tonumber(meta[1]) > 0 then
  return reply
end
local fields = redis.call('HKEYS', KEYS[2])
for i = 1, #fields do
  reply[#reply + 1] = fields[i]
end
return reply
