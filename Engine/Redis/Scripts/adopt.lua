-- Puts an order that MySQL holds but the Redis ledger does not know (Redis came back from an older
-- state) back into the ledger, and takes its units out of the stock so that nobody can buy them again.
-- KEYS: 1 meta, 2 idempotency, 3 users, 4 ledger.
-- ARGV: 1 order number, 2 userId, 3 quantity, 4 amountMinor, 5 createdMs, 6 deadlineMs, 7 state (R|P),
--       8 idempotency key.
-- Reply: { 1, short } adopted; short is how many of its units Redis had already sold to somebody
--        else (oversold, which no script can undo); { 0, 0 } the ledger knows the order already;
--        { -1, 0 } the SKU is not warmed up.
if redis.call('HEXISTS', KEYS[4], ARGV[1]) == 1 then
  return { 0, 0 }
end
local available = tonumber(redis.call('HGET', KEYS[1], 'available'))
if not available then
  return { -1, 0 }
end

local quantity = tonumber(ARGV[3])
local take = math.min(available, quantity)
redis.call('HINCRBY', KEYS[1], 'available', -take)
redis.call('HINCRBY', KEYS[3], ARGV[2], quantity)
redis.call('HSETNX', KEYS[2], ARGV[2] .. ':' .. ARGV[8], ARGV[1])
redis.call('HSET', KEYS[4], ARGV[1], table.concat({ ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7] }, '|'))
return { 1, quantity - take }
