-- Counts admission tokens as used: each made an order, so its slot goes to the next ticket in line. KEYS: 1 queue,
-- 2 queue:used. ARGV: the tickets' sequences. A ticket not holding a valid admission (lapsed, or never admitted) is
-- left out: its slot was given back already. Idempotent (a ticket is counted once, whatever its orders).
-- Reply (C#: SkuScripts.UseAdmissionsAsync): { DONE, counted now }.
local queue = redis.call('HMGET', KEYS[1], 'admitted', 'lapsed')
local admitted, lapsed = tonumber(queue[1] or '0'), tonumber(queue[2] or '0')
local counted = 0
for i = 1, #ARGV do
  local seq = tonumber(ARGV[i])
  if seq > lapsed and seq <= admitted then
    counted = counted + redis.call('ZADD', KEYS[2], 'NX', seq, seq)
  end
end
return { CODE.DONE, counted }
