-- Puts an order that MySQL holds but the Redis ledger does not know (Redis came back from an older
-- state) back into the ledger, and takes its units out of the stock so that nobody can buy them again.
-- KEYS: 1 meta, 2 idempotency, 3 users, 4 ledger.
-- ARGV: 1 order number, 2 userId, 3 quantity, 4 amountMinor, 5 createdMs, 6 deadlineMs, 7 state (R|P),
--       8 idempotency key.
-- Reply (C#: SkuScripts.AdoptAsync): { DONE, short } adopted, short being how many of its units Redis had
--        already sold to somebody else (oversold, which no script can undo); { ALREADY_DONE, 0 } the ledger
--        knows the order; { NOT_WARMED, 0 } the SKU is not warmed up.
if redis.call('HEXISTS', KEYS[4], ARGV[1]) == 1 then
  return { CODE.ALREADY_DONE, 0 }
end
local available = tonumber(redis.call('HGET', KEYS[1], 'available'))
if not available then
  return { CODE.NOT_WARMED, 0 }
end

local r = {
  user = ARGV[2], quantity = tonumber(ARGV[3]), amount = tonumber(ARGV[4]),
  created = tonumber(ARGV[5]), deadline = tonumber(ARGV[6]), state = ARGV[7],
}
local take = math.min(available, r.quantity)
redis.call('HINCRBY', KEYS[1], 'available', -take)
advance(KEYS[1])
redis.call('HINCRBY', KEYS[3], r.user, r.quantity)
redis.call('HSETNX', KEYS[2], r.user .. ':' .. ARGV[8], ARGV[1])
redis.call('HSET', KEYS[4], ARGV[1], ledger_encode(r))
count_state(KEYS[1], r.state, r.quantity)
return { CODE.DONE, r.quantity - take }
