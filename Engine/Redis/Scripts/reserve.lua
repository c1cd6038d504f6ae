-- Decides one reservation atomically. Every key shares the SKU's hash tag.
-- KEYS: 1 meta, 2 idempotency, 3 users, 4 ledger, 5 outbox
-- ARGV: 1 userId, 2 idempotency key, 3 quantity, 4 order number (allocated by the caller),
--       5 campaignId, 6 skuId
-- Reply: { code, ... }
--   1  created   { 1, orderNo, ledgerRecord, availableAfter, gen }
--   2  replay    { 2, orderNo, ledgerRecord }
--   3  key reused with another quantity { 3, orderNo }
--  -1  not on sale (SKU not warmed up)
--  -2  not started  -3 ended  -4 purchase limit
--  -5  sold out     { -5, available, gen }
-- Nothing is written unless the reply is 1: refusals change nothing.
local meta = redis.call('HMGET', KEYS[1], 'available', 'starts', 'ends', 'limit', 'price', 'window', 'gen')
if not meta[1] then
  return { -1 }
end

local user = ARGV[1]
local quantity = tonumber(ARGV[3])
local idemField = user .. ':' .. ARGV[2]

local prior = redis.call('HGET', KEYS[2], idemField)
if prior then
  local record = redis.call('HGET', KEYS[4], prior)
  local priorQuantity = tonumber(string.match(record, '^[^|]*|([^|]*)|'))
  if priorQuantity ~= quantity then
    return { 3, prior }
  end
  return { 2, prior, record }
end

-- One clock for every Ingress instance: the Redis server's.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if now < tonumber(meta[2]) then
  return { -2 }
end
if now >= tonumber(meta[3]) then
  return { -3 }
end

local bought = tonumber(redis.call('HGET', KEYS[3], user) or '0')
if bought + quantity > tonumber(meta[4]) then
  return { -4 }
end

-- Check, then decrement: stock never goes below zero, not even for an instant.
local available = tonumber(meta[1])
if available < quantity then
  return { -5, available, meta[7] }
end

local orderNo = ARGV[4]
local amount = tonumber(meta[5]) * quantity
local deadline = now + tonumber(meta[6]) * 1000
local record = string.format('%s|%d|%d|%d|%d|R', user, quantity, amount, now, deadline)

redis.call('HINCRBY', KEYS[1], 'available', -quantity)
redis.call('HINCRBY', KEYS[3], user, quantity)
redis.call('HSET', KEYS[2], idemField, orderNo)
redis.call('HSET', KEYS[4], orderNo, record)
redis.call('XADD', KEYS[5], '*',
  'v', '1',
  'orderNo', orderNo,
  'userId', user,
  'campaignId', ARGV[5],
  'skuId', ARGV[6],
  'quantity', tostring(quantity),
  'amountMinor', string.format('%d', amount),
  'createdAt', string.format('%d', now),
  'deadline', string.format('%d', deadline),
  'idempotencyKey', ARGV[2])

return { 1, orderNo, record, available - quantity, meta[7] }
