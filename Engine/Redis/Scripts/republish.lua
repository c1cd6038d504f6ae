-- Puts a reservation whose event never reached MySQL back on the SKU's outbox, from its ledger
-- entry, so that the relay takes it to Kafka again. A copy that did arrive after all is absorbed
-- by the persister's idempotent insert.
-- The time it did so is kept, and an order with no pending mark gets one naming the new entry (its event is not yet
-- durable), so the reconciler counts it as in flight until the relay has settled it, however long the relay takes;
-- an order still pending keeps the mark of its own entry (settle.lua removes a mark only with the entry it names).
-- An order made with a coupon is re-published with it (the SKU's coupons hash), so MySQL stores it with its coupon.
-- KEYS: 1 ledger (the base of its shards), 2 outbox, 3 re-published, 4 pending, 5 coupons, 6 meta. ARGV: 1 order number, 2 campaignId, 3 skuId, 4 idempotency key.
-- Reply (C#: SkuScripts.RepublishAsync): DONE re-published; UNKNOWN_ORDER the ledger does not hold the
--        order; ORDER_RELEASED it was cancelled.
local r = ledger_find(KEYS[1], ledger_shards(KEYS[6]), ARGV[1])
if not r then
  return CODE.UNKNOWN_ORDER
elseif r.state == 'C' then
  return CODE.ORDER_RELEASED
end
local use = redis.call('HGET', KEYS[5], ARGV[1])
local coupon = use ~= BARRED and coupon_decode(use) or nil
local id = outbox_add(KEYS[2], ARGV[2], ARGV[3], { batch_order(ARGV[1], r, ARGV[4], 0, coupon) }, { ARGV[1] })
redis.call('HSET', KEYS[3], ARGV[1], now_ms())
redis.call('HSETNX', KEYS[4], ARGV[1], id)
return CODE.DONE
