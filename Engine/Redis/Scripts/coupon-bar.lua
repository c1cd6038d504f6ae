-- The stock's side of cancelling an orphaned coupon (one a Try locked for an order number whose order does not exist):
-- on the SKU, marks the order number barred in the SKU's coupons hash unless the ledger holds it, in one step, so that a
-- Try-stock of that order number arriving afterwards is refused (reserve-many.lua) and the coupon can be given back
-- safely. The orphan sweep calls it before coupon-cancel.lua.
-- KEYS: 1 meta, 2 ledger (the base of its shards), 3 coupons. ARGV: 1 order number.
-- Reply (C#: CouponScripts.BarAsync): DONE barred (now or before): no order can be made under this number any more;
--        ALREADY_DONE the ledger holds the order: it exists, nothing barred; FENCED the SKU is fenced, its ledger not to
--        be judged until it is rebuilt: nothing barred.
if redis.call('HEXISTS', ledger_key(KEYS[2], ledger_shards(KEYS[1]), ARGV[1]), ARGV[1]) == 1 then
  return CODE.ALREADY_DONE
end
if redis.call('HEXISTS', KEYS[1], 'fenced') == 1 then
  return CODE.FENCED
end
redis.call('HSETNX', KEYS[3], ARGV[1], BARRED)
return CODE.DONE
