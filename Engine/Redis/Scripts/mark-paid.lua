-- Records in the SKU ledger that an order's units are sold (paid), and moves them from the SKU's reserved
-- count to its sold count. KEYS: 1 meta, 2 ledger (the base of its shards). ARGV: 1 order number.
-- Reply (C#: SkuScripts.MarkPaidAsync): DONE marked now; ALREADY_DONE paid before;
--        UNKNOWN_ORDER not in the ledger; ORDER_RELEASED the ledger says cancelled.
local r, ledger = ledger_find(KEYS[2], ledger_shards(KEYS[1]), ARGV[1])
if not r then
  return CODE.UNKNOWN_ORDER
elseif r.state == 'P' then
  return CODE.ALREADY_DONE
elseif r.state == 'C' then
  return CODE.ORDER_RELEASED
end
r.state = 'P'
redis.call('HSET', ledger, ARGV[1], ledger_encode(r))
count_state(KEYS[1], 'R', -r.quantity)
count_state(KEYS[1], 'P', r.quantity)
return CODE.DONE
