-- Decides one reservation atomically. Every key shares the SKU's hash tag.
-- KEYS: 1 meta, 2 idempotency, 3 users, 4 ledger, 5 outbox, 6 pending
-- ARGV: 1 userId, 2 idempotency key, 3 quantity, 4 order number (allocated by the caller),
--       5 campaignId, 6 skuId, 7 and 8 the highest (epoch, sequence) of this SKU the caller has seen
-- Reply (C#: SkuScripts.ReserveAsync):
--   { DONE, orderNo, ledgerRecord, availableAfter, gen, seq, outboxId, epoch }   created
--   { REPLAYED, orderNo, ledgerRecord, seq, outboxId or false, epoch }   the key already owns this order;
--                                                                         outboxId while its event is not yet durable
--   { KEY_REUSED, orderNo }                                the key owns an order of another quantity
--   { FENCED, seq, epoch }                                 Redis has forgotten decisions: nothing is decided until rebuilt
--   { NOT_WARMED } { NOT_STARTED } { ENDED } { PURCHASE_LIMIT }
--   { SOLD_OUT, available, gen, seq, epoch }
-- The epoch is set when the SKU is first loaded and moved on by every recovery, so a caller's memory of
-- an older epoch never fences a rebuilt SKU, while a Redis back at an older epoch (or behind within the
-- same one) is caught.
-- Nothing is written unless the reply is DONE (or FENCED, which raises the fence): refusals change nothing.
local meta = redis.call('HMGET', KEYS[1], 'available', 'starts', 'ends', 'limit', 'price', 'window', 'gen', 'seq', 'fenced', 'epoch')
if not meta[1] then
  return { CODE.NOT_WARMED }
end
local seq = tonumber(meta[8] or '0')
local epoch = tonumber(meta[10] or '0')

local user = ARGV[1]
local quantity = tonumber(ARGV[3])
local idemField = user .. ':' .. ARGV[2]

local prior = redis.call('HGET', KEYS[2], idemField)
if prior then
  local record = redis.call('HGET', KEYS[4], prior)
  if ledger_decode(record).quantity ~= quantity then
    return { CODE.KEY_REUSED, prior }
  end
  return { CODE.REPLAYED, prior, record, seq, redis.call('HGET', KEYS[6], prior), epoch }
end

-- A Redis behind what a caller saw lost decisions (a restore, a failover to a lagging replica):
-- it decides nothing more until the reconciler has rebuilt it from the durable log.
if meta[9] then
  return { CODE.FENCED, seq, epoch }
end
local seenSeq, seenEpoch = tonumber(ARGV[7]), tonumber(ARGV[8])
if epoch < seenEpoch or (epoch == seenEpoch and seq < seenSeq) then
  fence(KEYS[1], string.format('behind: at %d/%d, a caller saw %d/%d', epoch, seq, seenEpoch, seenSeq))
  return { CODE.FENCED, seq, epoch }
end

local now = now_ms()
if now < tonumber(meta[2]) then
  return { CODE.NOT_STARTED }
end
if now >= tonumber(meta[3]) then
  return { CODE.ENDED }
end

local bought = tonumber(redis.call('HGET', KEYS[3], user) or '0')
if bought + quantity > tonumber(meta[4]) then
  return { CODE.PURCHASE_LIMIT }
end

-- Check, then decrement: stock never goes below zero, not even for an instant.
local available = tonumber(meta[1])
if available < quantity then
  return { CODE.SOLD_OUT, available, meta[7], seq, epoch }
end

local orderNo = ARGV[4]
seq = advance(KEYS[1])
local r = {
  user = user, quantity = quantity, amount = tonumber(meta[5]) * quantity,
  created = now, deadline = now + tonumber(meta[6]) * 1000, state = 'R',
}
local record = ledger_encode(r)

redis.call('HINCRBY', KEYS[1], 'available', -quantity)
count_state(KEYS[1], 'R', quantity)
redis.call('HINCRBY', KEYS[3], user, quantity)
redis.call('HSET', KEYS[2], idemField, orderNo)
redis.call('HSET', KEYS[4], orderNo, record)
local outboxId = outbox_add(KEYS[5], orderNo, r, ARGV[5], ARGV[6], ARGV[2], seq)
redis.call('HSET', KEYS[6], orderNo, outboxId)

return { CODE.DONE, orderNo, record, available - quantity, meta[7], seq, outboxId, epoch }
