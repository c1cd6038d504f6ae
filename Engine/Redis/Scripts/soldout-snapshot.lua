-- What an Ingress needs to answer sold-out from memory: the stock, its generation, and the buyers who made an
-- order (a replay of theirs must still reach Redis, which knows their keys; anybody else is simply too late).
-- KEYS: 1 meta, 2 users.
-- Reply (C#: SkuScripts.SoldOutSnapshotAsync): { DONE, available, gen, userId1, userId2, ... } (buyers only
--        when available is 0); { NOT_WARMED }.
local meta = redis.call('HMGET', KEYS[1], 'available', 'gen')
if not meta[1] then
  return { CODE.NOT_WARMED }
end
local reply = { CODE.DONE, tonumber(meta[1]), meta[2] }
if tonumber(meta[1]) > 0 then
  return reply
end
local buyers = redis.call('HKEYS', KEYS[2])
for i = 1, #buyers do
  reply[#reply + 1] = buyers[i]
end
return reply
