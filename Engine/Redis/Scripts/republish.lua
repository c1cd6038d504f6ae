-- Puts a reservation whose event never reached MySQL back on the SKU's outbox, from its ledger
-- entry, so that the relay takes it to Kafka again. A copy that did arrive after all is absorbed
-- by the persister's idempotent insert.
-- The time it did so is kept, so the reconciler counts the event as in flight again until its grace passes.
-- KEYS: 1 ledger, 2 outbox, 3 re-published. ARGV: 1 order number, 2 campaignId, 3 skuId, 4 idempotency key.
-- Reply: 1 re-published; 0 the ledger no longer holds the order (unknown or released).
local record = redis.call('HGET', KEYS[1], ARGV[1])
if not record then
  return 0
end
local user, quantity, amount, created, deadline, state =
  string.match(record, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|(%a)$')
if state == 'C' then
  return 0
end
redis.call('XADD', KEYS[2], '*',
  'v', '1',
  'orderNo', ARGV[1],
  'userId', user,
  'campaignId', ARGV[2],
  'skuId', ARGV[3],
  'quantity', quantity,
  'amountMinor', amount,
  'createdAt', created,
  'deadline', deadline,
  'idempotencyKey', ARGV[4])
local time = redis.call('TIME')
redis.call('HSET', KEYS[3], ARGV[1], tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000))
return 1
