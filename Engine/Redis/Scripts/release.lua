-- Gives a cancelled order's units back to the sale, at most once per order.
-- KEYS: 1 meta, 2 users, 3 ledger (the base of its shards). ARGV: 1 order number, 2 "campaignId:skuId".
-- Reply (C#: SkuScripts.ReleaseAsync): DONE released now; ALREADY_DONE released before;
--        UNKNOWN_ORDER the ledger does not know the order; ORDER_PAID the order is paid (never released).
local r, ledger = ledger_find(KEYS[3], ledger_shards(KEYS[1]), ARGV[1])
if not r then
  return CODE.UNKNOWN_ORDER
elseif r.state == 'C' then
  return CODE.ALREADY_DONE
elseif r.state == 'P' then
  return CODE.ORDER_PAID
end
r.state = 'C'
redis.call('HSET', ledger, ARGV[1], ledger_encode(r))
redis.call('HINCRBY', KEYS[1], 'available', r.quantity)
count_state(KEYS[1], 'R', -r.quantity)
advance(KEYS[1])
-- The buyer may buy again what they gave back; their keys still own their orders (a replay answers the cancelled one).
local bought, rest, more = buyer_decode(redis.call('HGET', KEYS[2], r.user))
redis.call('HSET', KEYS[2], r.user, buyer_encode(math.max(0, bought - r.quantity), rest, more))
stock_returned(KEYS[1], ARGV[2])
return CODE.DONE
