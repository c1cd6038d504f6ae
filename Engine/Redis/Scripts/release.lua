-- Gives a cancelled order's units back to the sale, at most once per order.
-- KEYS: 1 meta, 2 users, 3 ledger. ARGV: 1 order number.
-- Reply: 2 released now; 1 already released before; 0 the ledger does not know the order;
--        -1 the order is paid (never released).
local record = redis.call('HGET', KEYS[3], ARGV[1])
if not record then
  return 0
end
local user, quantity, rest, state = string.match(record, '^([^|]*)|([^|]*)|(.*)|(%a)$')
if state == 'C' then
  return 1
end
if state == 'P' then
  return -1
end
redis.call('HSET', KEYS[3], ARGV[1], user .. '|' .. quantity .. '|' .. rest .. '|C')
redis.call('HINCRBY', KEYS[1], 'available', tonumber(quantity))
-- The buyer may buy again what they gave back.
if tonumber(redis.call('HINCRBY', KEYS[2], user, -tonumber(quantity))) <= 0 then
  redis.call('HDEL', KEYS[2], user)
end
redis.call('HINCRBY', KEYS[1], 'gen', 1)
local tag = string.match(KEYS[1], '{(.*)}')
redis.call('PUBLISH', 'fs:stock-returned', tag)
return 2
