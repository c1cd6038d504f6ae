-- Puts an order that MySQL holds but the Redis ledger does not know (Redis came back from an older
-- state) back into the ledger, and takes its units out of the stock so that nobody can buy them again.
-- KEYS: 1 meta, 2 users, 3 ledger (the base of its shards), 4 idempotency.
-- ARGV: 1 order number, 2 userId, 3 quantity, 4 amountMinor, 5 createdMs, 6 deadlineMs, 7 state (R|P),
--       8 idempotency key.
-- Reply (C#: SkuScripts.AdoptAsync): { DONE, short } adopted, short being how many of its units Redis had
--        already sold to somebody else (oversold, which no script can undo); { ALREADY_DONE, 0 } the ledger
--        knows the order; { NOT_WARMED, 0 } the SKU is not warmed up.
local meta = redis.call('HMGET', KEYS[1], 'available', 'shards')
local ledger = ledger_key(KEYS[3], tonumber(meta[2]), ARGV[1])
if redis.call('HEXISTS', ledger, ARGV[1]) == 1 then
  return { CODE.ALREADY_DONE, 0 }
end
local available = tonumber(meta[1])
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
-- The buyer holds the units again, and the key owns the order (unless it owns another: the first stays).
local bought, rest, more = buyer_decode(redis.call('HGET', KEYS[2], r.user))
local field = r.user .. ':' .. ARGV[8]
if ARGV[8] ~= '' and not buyer_order(rest, ARGV[8]) and not (more and redis.call('HEXISTS', KEYS[4], field) == 1) then
  local folded = buyer_fold(rest, ARGV[8], ARGV[1])
  if folded then
    rest = folded
  else
    redis.call('HSET', KEYS[4], field, ARGV[1])
    more = true
  end
end
redis.call('HSET', KEYS[2], r.user, buyer_encode(bought + r.quantity, rest, more))
redis.call('HSET', ledger, ARGV[1], ledger_encode(r))
count_state(KEYS[1], r.state, r.quantity)
return { CODE.DONE, r.quantity - take }
