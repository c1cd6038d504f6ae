-- Decides a batch of reservations of one SKU atomically, with exactly the outcomes the same requests would get one
-- after another in this order: an idempotent replay (also of an order created earlier in the same batch), the
-- purchase window, the per-buyer limit (also for one buyer twice in a batch), the stock checked before it is taken.
-- Every key shares the SKU's hash tag: on a cluster the batch is one slot's work.
-- KEYS: 1 meta, 2 users (each buyer's count and first keys, prelude.lua's buyer_decode), 3 ledger (the base of its
--       shards, prelude.lua's ledger_key), 4 outbox, 5 pending, 6 coupons, 7 idempotency (the keys a buyer's field
--       does not fold)
-- ARGV: 1 campaignId, 2 skuId, 3 and 4 the highest (epoch, sequence) of this SKU the caller has seen,
--       then five per request: userId, idempotency key, quantity, order number (allocated by the caller), and the
--       coupon its Try-coupon locked for that order number ('' for none; couponId|discountMinor|poolSeq).
-- Reply (C#: SkuScripts.ReserveManyAsync):
--   { NOT_WARMED }
--   { DONE, epoch, seq, available, gen, price, windowSeconds, nowMs, outboxId or 0, batch or 0, codes, then extras }
--   codes: one byte per request, in request order: 64 + its code, one of
--     DONE               created; its sequence number follows from the batch's (the created orders took seq - created + 1
--                        to seq, in request order) and the caller knows its order number: no extras
--     REPLAYED           the key owns this order; four extras: orderNo, ledgerRecord, outboxId or 0 (while its event is
--                        not yet confirmed durable), coupon (its coupon use, or '')
--     KEY_REUSED         the key owns an order of another quantity or coupon; one extra: orderNo
--     COUPON_UNAVAILABLE the order number's coupon was cancelled before this Try (coupon-bar.lua), or the discount is not
--                        below the price
--     FENCED / NOT_STARTED / ENDED / PURCHASE_LIMIT / SOLD_OUT
--   extras: those of the requests that have any, in request order. A created order costs one byte of the reply.
-- An order with a coupon costs price × quantity − discount; its coupon use goes to the coupons hash and into its event.
-- The created orders go to the outbox as ONE entry (the batch record Kafka will carry, returned as batch) and each
-- order's pending mark names that entry. seq and available are the SKU's after the batch.
-- The epoch is set when the SKU is first loaded and moved on by every recovery, so a caller's memory of an older
-- epoch never fences a rebuilt SKU, while a Redis back at an older epoch (or behind within the same one) is caught.
-- Refusals change nothing; a batch without a created order writes nothing (unless it raises the fence).
local meta = redis.call('HMGET', KEYS[1], 'available', 'starts', 'ends', 'limit', 'price', 'window', 'gen', 'seq', 'fenced', 'epoch', 'shards')
if not meta[1] then
  return { CODE.NOT_WARMED }
end
local available = tonumber(meta[1])
local starts, ends, limit = tonumber(meta[2]), tonumber(meta[3]), tonumber(meta[4])
local price, window = tonumber(meta[5]), tonumber(meta[6])
local seq = tonumber(meta[8] or '0')
local epoch = tonumber(meta[10] or '0')
local fenced = meta[9] ~= false
local shards = tonumber(meta[11])
local seenSeq, seenEpoch = tonumber(ARGV[3]), tonumber(ARGV[4])
-- A Redis behind what a caller saw lost decisions (a restore, a failover to a lagging replica).
local behind = epoch < seenEpoch or (epoch == seenEpoch and seq < seenSeq)

local STRIDE = 5
local n = (#ARGV - 4) / STRIDE
local userFields, users = {}, {}
for i = 1, n do
  local user = ARGV[STRIDE * i]
  local u = users[user]
  if u then
    u.requests = u.requests + 1
  else
    userFields[#userFields + 1] = user
    users[user] = { index = #userFields, requests = 1, bought = 0, rest = '', more = false, changed = false }
  end
end
-- A request's idempotency field, userId:key: made only where it is looked up, for a buyer asking twice in the batch
-- (the orders the batch created are found by it) or with keys in the idempotency hash.
local fields = {}
local function field_of(i)
  local field = fields[i]
  if not field then
    field = ARGV[STRIDE * i] .. ':' .. ARGV[STRIDE * i + 1]
    fields[i] = field
  end
  return field
end
-- A number as the records print it, formatted once per call: amounts repeat with the quantity, counts with the limit.
local texts = {}
local function text(number)
  local t = texts[number]
  if not t then
    t = string.format('%d', number)
    texts[number] = t
  end
  return t
end
-- Everything the batch reads, read once: each buyer's count and the orders their keys made.
local buyers = redis.call('HMGET', KEYS[2], unpack(userFields))
local anyMore = false
for _, u in pairs(users) do
  u.bought, u.rest, u.more = buyer_decode(buyers[u.index])
  -- A SKU loaded by an older engine (no ledger shards) kept every key in the idempotency hash.
  u.more = u.more or not shards
  anyMore = anyMore or u.more
end
-- And, with one more HMGET, the keys that buyers whose fields do not fold them all may have made orders with before.
local spillFields, spillIndex, spilled = {}, {}, {}
if anyMore then
  for i = 1, n do
    local u = users[ARGV[STRIDE * i]]
    local field = u.more and field_of(i)
    if field and not spillIndex[field] and not buyer_order(u.rest, ARGV[STRIDE * i + 1]) then
      spillFields[#spillFields + 1] = field
      spillIndex[field] = #spillFields
    end
  end
  if #spillFields > 0 then
    spilled = redis.call('HMGET', KEYS[7], unpack(spillFields))
  end
end

local reply = { CODE.DONE, epoch, seq, available, meta[7], price, window, 0, 0, 0, '' }
local codes = {}         -- 64 + each request's code
-- The clock, read once when a request first needs it, and the end of every record and event that the batch creates,
-- which all share it: |createdMs|deadlineMs|R and ,createdMs,deadlineMs,
local now, ledgerTail, eventTail
local taken = 0          -- units the batch's created orders hold (state R)
local created = {}       -- userId:key -> { orderNo, record, coupon } of orders created in this batch
local replayedHere = {}  -- reply slots of the outbox ids of replays of those orders: it is the batch's entry
local ledgerWrites, idemWrites, pendingWrites, couponWrites, orders, orderNos = {}, {}, {}, {}, {}, {}  -- ledgerWrites: shard -> writes
local ledgerKeyOf = ledger_keys(KEYS[3], shards)

for i = 1, n do
  local base = STRIDE * i - 1
  local user, key, quantityText, orderNo = ARGV[base + 1], ARGV[base + 2], ARGV[base + 3], ARGV[base + 4]
  local quantity = tonumber(quantityText)
  local couponArg = ARGV[base + 5]
  local coupon = coupon_decode(couponArg)
  local u = users[user]
  local field = (u.requests > 1 or u.more) and field_of(i)
  local mine = field and created[field]
  local prior = mine and mine.orderNo or buyer_order(u.rest, key) or (field and spillIndex[field] and spilled[spillIndex[field]])
  local code
  if prior then
    local record = mine and mine.record or redis.call('HGET', ledger_key(KEYS[3], shards, prior), prior)
    local priorCoupon = mine and (mine.coupon or '') or redis.call('HGET', KEYS[6], prior) or ''
    -- The same key with another quantity or another coupon (or with one where it had none) is another request.
    if ledger_decode(record).quantity ~= quantity or string.match(priorCoupon, '^[^|]*') ~= (coupon and coupon.id or '') then
      code = CODE.KEY_REUSED
      reply[#reply + 1] = prior
    else
      code = CODE.REPLAYED
      local at = #reply
      reply[at + 1], reply[at + 2], reply[at + 4] = prior, record, priorCoupon
      if mine then
        reply[at + 3] = 0
        replayedHere[#replayedHere + 1] = at + 3
      else
        reply[at + 3] = redis.call('HGET', KEYS[5], prior) or 0
      end
    end
  elseif coupon and (redis.call('HGET', KEYS[6], orderNo) == BARRED or coupon.discount >= price * quantity) then
    -- Its coupon was cancelled before this Try came (a Try that hung: TCC's anti-hanging), or would make it free.
    code = CODE.COUPON_UNAVAILABLE
  elseif fenced then
    code = CODE.FENCED
  elseif behind then
    fence(KEYS[1], string.format('behind: at %d/%d, a caller saw %d/%d', epoch, seq, seenEpoch, seenSeq))
    fenced = true
    code = CODE.FENCED
  else
    if not now then
      now = now_ms()
      local nowText, deadlineText = string.format('%d', now), string.format('%d', now + window * 1000)
      ledgerTail, eventTail = '|' .. nowText .. '|' .. deadlineText .. '|R', ',' .. nowText .. ',' .. deadlineText .. ','
    end
    if now < starts then
      code = CODE.NOT_STARTED
    elseif now >= ends then
      code = CODE.ENDED
    elseif u.bought + quantity > limit then
      code = CODE.PURCHASE_LIMIT
    elseif available < quantity then
      -- Check, then decrement: stock never goes below zero, not even for an instant.
      code = CODE.SOLD_OUT
    else
      seq = seq + 1
      available = available - quantity
      taken = taken + quantity
      u.bought = u.bought + quantity
      local folded = buyer_fold(u.rest, key, orderNo)
      if folded then
        u.rest = folded
      else
        idemWrites[#idemWrites + 1] = field_of(i)
        idemWrites[#idemWrites + 1] = orderNo
        u.more = true
      end
      u.changed = true
      -- ledger_encode's record and batch_order's event, written out here: this runs for every order the engine creates.
      local amount = text(price * quantity - (coupon and coupon.discount or 0))
      local record = user .. '|' .. quantityText .. '|' .. amount .. ledgerTail
      if u.requests > 1 then
        created[field] = { orderNo = orderNo, record = record, coupon = coupon and couponArg }
      end
      if coupon then
        couponWrites[#couponWrites + 1] = orderNo
        couponWrites[#couponWrites + 1] = couponArg
      end
      local shard = ledgerKeyOf(orderNo)
      local writes = ledgerWrites[shard]
      if not writes then
        writes = {}
        ledgerWrites[shard] = writes
      end
      writes[#writes + 1] = orderNo
      writes[#writes + 1] = record
      orders[#orders + 1] = '["' .. orderNo .. '",' .. user .. ',' .. quantityText .. ',' .. amount .. eventTail .. string.format('%d', seq)
        .. ',' .. json_string(key) .. (coupon and coupon_event(coupon) or '') .. ']'
      orderNos[#orderNos + 1] = orderNo
      code = CODE.DONE
    end
  end
  codes[i] = 64 + code
end
reply[11] = string.char(unpack(codes))

if #orders > 0 then
  redis.call('HSET', KEYS[1], 'available', available, 'seq', seq)
  count_state(KEYS[1], 'R', taken)
  local userWrites = {}
  for user, u in pairs(users) do
    if u.changed then
      userWrites[#userWrites + 1] = user
      userWrites[#userWrites + 1] = buyer_encode(text(u.bought), u.rest, u.more)
    end
  end
  redis.call('HSET', KEYS[2], unpack(userWrites))
  if #idemWrites > 0 then
    redis.call('HSET', KEYS[7], unpack(idemWrites))
  end
  for shard, writes in pairs(ledgerWrites) do
    redis.call('HSET', shard, unpack(writes))
  end
  if #couponWrites > 0 then
    redis.call('HSET', KEYS[6], unpack(couponWrites))
  end
  local id, value = outbox_add(KEYS[4], ARGV[1], ARGV[2], orders, orderNos)
  for i = 1, #orderNos do
    pendingWrites[#pendingWrites + 1] = orderNos[i]
    pendingWrites[#pendingWrites + 1] = id
  end
  redis.call('HSET', KEYS[5], unpack(pendingWrites))
  for i = 1, #replayedHere do
    reply[replayedHere[i]] = id
  end
  reply[3], reply[4], reply[9], reply[10] = seq, available, id, value
end
reply[8] = now or 0
return reply
