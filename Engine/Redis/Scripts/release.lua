-- Gives a cancelled order's units back to the sale, at most once per order.
-- KEYS: 1 meta, 2 users, 3 ledger. ARGV: 1 order number, 2 "campaignId:skuId".
-- Reply (C#: SkuScripts.ReleaseAsync): DONE released now; ALREADY_DONE released before;
--        UNKNOWN_ORDER the ledger does not know the order; ORDER_PAID the order is paid (never released).
local r = ledger_find(KEYS[3], ARGV[1])
if not r then
  return CODE.UNKNOWN_ORDER
elseif r.state == 'C' then
  return CODE.ALREADY_DONE
elseif r.state == 'P' then
  return CODE.ORDER_PAID
end
r.state = 'C'
redis.call('HSET', KEYS[3], ARGV[1], ledger_encode(r))
redis.call('HINCRBY', KEYS[1], 'available', r.quantity)
count_state(KEYS[1], 'R', -r.quantity)
advance(KEYS[1])
-- The buyer may buy again what they gave back.
if tonumber(redis.call('HINCRBY', KEYS[2], r.user, -r.quantity)) <= 0 then
  redis.call('HDEL', KEYS[2], r.user)
end
stock_returned(KEYS[1], ARGV[2])
return CODE.DONE
