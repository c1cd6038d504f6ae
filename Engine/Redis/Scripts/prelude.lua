-- Shared by every engine script: prepended to each when the scripts load (RedisScript), after the
-- constants generated from C# (the reply codes CODE.*, the stock channel), so the ledger record, the
-- outbox entry and the clock are written in exactly one place on the Redis side.
-- Everything is local: a script sees only its own copy.

-- One clock for every Ingress instance: the Redis server's, in milliseconds.
local function now_ms()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end

-- A ledger record: userId|quantity|amountMinor|createdMs|deadlineMs|state, state R (reserved),
-- P (paid) or C (cancelled, units returned). C#: LedgerRecord.
local function ledger_decode(record)
  local user, quantity, amount, created, deadline, state =
    string.match(record, '^(%d+)|(%d+)|(%d+)|(%d+)|(%d+)|([RPC])$')
  if not state then
    error('malformed ledger record: ' .. record)
  end
  return {
    user = user, quantity = tonumber(quantity), amount = tonumber(amount),
    created = tonumber(created), deadline = tonumber(deadline), state = state,
  }
end

-- The hash of a SKU's ledger that holds an order. A SKU first loaded by this engine has its ledger split into `shards`
-- small hashes (meta field, fixed at the first load, about 48 orders each), which Redis keeps in its compact listpack
-- encoding: KEYS ledger .. ':' .. shard. An order's shard is floor(orderNo / 2^17) % shards, so the 32 consecutive
-- sequence numbers of one millisecond share one: a batch writes one or two hashes. The order number has 63 bits and
-- Lua's numbers 53, so it is taken in two parts, orderNo = hi * 10^9 + lo, with 10^9 = 7629 * 2^17 + 51712: every
-- product below stays under 2^53, exact. C#: LedgerLayout.KeyOf. A SKU without `shards` (loaded by an older
-- engine) keeps one ledger hash, the key itself.
-- That arithmetic: floor(orderNo / 2^17), and orderNo's offset in that group of 2^17 numbers.
local function ledger_group(orderNo)
  local hi = tonumber(string.sub(orderNo, 1, -10)) or 0
  local low = hi * 51712 + tonumber(string.sub(orderNo, -9))
  return hi * 7629 + math.floor(low / 131072), low % 131072
end

local function ledger_key(ledger, shards, orderNo)
  if not shards then
    return ledger
  end
  return ledger .. ':' .. (ledger_group(orderNo) % shards)
end

-- ledger_key for the many orders of one script call, as a function of the order number: what it works out is kept per
-- block of 10^5 consecutive order numbers. A 2^17 group boundary falls at most once in a block (10^5 < 2^17), so a block
-- needs two keys and the boundary's offset, and each order only its last five digits read.
local function ledger_keys(ledger, shards)
  if not shards then
    return function()
      return ledger
    end
  end
  local blocks = {}
  return function(orderNo)
    local prefix = string.sub(orderNo, 1, -6)
    local block = blocks[prefix]
    if not block then
      local group, offset = ledger_group(prefix .. '00000')
      -- The first element: the offset in the block of the next group's first order number.
      block = { 131072 - offset, ledger .. ':' .. (group % shards), ledger .. ':' .. ((group + 1) % shards) }
      blocks[prefix] = block
    end
    if block[1] >= 100000 or tonumber(string.sub(orderNo, -5)) < block[1] then
      return block[2]
    end
    return block[3]
  end
end

-- The SKU's ledger shards (nil: one ledger hash), from its meta hash.
local function ledger_shards(meta)
  return tonumber(redis.call('HGET', meta, 'shards'))
end

-- The ledger entry of an order, decoded (nil when the ledger does not hold it), and the hash that holds or would hold
-- it. shards: ledger_shards(meta).
local function ledger_find(ledger, shards, orderNo)
  local key = ledger_key(ledger, shards, orderNo)
  local record = redis.call('HGET', key, orderNo)
  return record and ledger_decode(record), key
end

-- A buyer's field in the SKU's users hash: the units their live orders hold, then, for their first BUYER_FOLDED orders,
-- the Idempotency-Key and order number: count \1key\2orderNo \1key\2orderNo ... (\1 and \2 cannot occur in a key, which
-- is visible ASCII). One HMGET reads a batch's buyers, counts and keys; one HSET writes them. A buyer who made more
-- orders than that (a campaign with a high per-buyer limit) has their further keys in the SKU's idempotency hash,
-- userId:key -> order number, and a '+' after the count says so: a field never grows past a few keys, so reading and
-- rewriting it costs the same at the hundredth order as at the first. C#: BuyerRecord.
local BUYER_FOLDED = 4

-- Returns the count, the rest (the folded keys) and whether more keys are in the idempotency hash; 0, '', false for a
-- buyer not seen.
local function buyer_decode(value)
  if not value then
    return 0, '', false
  end
  local count, more = string.match(value, '^(%d+)(%+?)')
  if not count then
    error('malformed buyer record: ' .. value)
  end
  return tonumber(count), string.sub(value, #count + #more + 1), more == '+'
end

local function buyer_encode(count, rest, more)
  return count .. (more and '+' or '') .. rest
end

-- How many keys the rest folds.
local function buyer_folded(rest)
  local _, n = string.gsub(rest, '\1', '')
  return n
end

-- The order number a buyer's folded key made (as a string), or nil; rest: buyer_decode's second value. A buyer with
-- more keys (buyer_decode's third value) may have it in the idempotency hash instead.
local function buyer_order(rest, key)
  if rest == '' then
    return nil
  end
  local _, e = string.find(rest, '\1' .. key .. '\2', 1, true)
  return e and string.match(rest, '^%d+', e + 1)
end

-- The rest with one more order of the buyer's folded in; nil when it folds BUYER_FOLDED already, and the key then
-- goes to the idempotency hash (with the '+').
local function buyer_fold(rest, key, orderNo)
  if rest ~= '' and buyer_folded(rest) >= BUYER_FOLDED then
    return nil
  end
  return rest .. '\1' .. key .. '\2' .. orderNo
end

-- quantity, created and deadline may be given as strings already (a batch formats its clock once, and has each
-- quantity as it came); as numbers they print as %d does (Lua writes an integer below 10^14 in full). Concatenation,
-- not string.format: this runs for every order a batch creates.
local function ledger_encode(r)
  return r.user .. '|' .. r.quantity .. '|' .. string.format('%d', r.amount) .. '|' .. r.created .. '|' .. r.deadline .. '|' .. r.state
end

-- The SKU's running counts of the units its ledger holds, in the meta hash: `reserved` (state R) and `sold`
-- (state P), so that stock checks (recover.lua, restock.lua, warmup.lua, the reconciler) read two fields
-- instead of walking a ledger of a million entries. Every script that creates a ledger entry or changes its
-- state calls this in the same script: count_state(meta, 'R', q) for a new reservation, and a move from one
-- state to another as count_state(meta, from, -q) then count_state(meta, to, q). C (cancelled) is not counted.
-- The counts are exact only while the meta hash has `counted` (see warmup.lua and count.lua): a SKU loaded before
-- the counts existed has none, and its increments here only accumulate until count.lua sets the true values.
local COUNTED_STATE = { R = 'reserved', P = 'sold' }
local function count_state(meta, state, delta)
  local field = COUNTED_STATE[state]
  if field then
    redis.call('HINCRBY', meta, field, delta)
  end
end

-- Units the ledger holds (R reserved or P paid), from the counts; nil when the SKU's counts are not exact yet
-- (meta read with HMGET … 'reserved', 'sold', 'counted', passed here as those three values).
local function held_from_counts(reserved, sold, counted)
  if not counted then
    return nil
  end
  return tonumber(reserved or '0') + tonumber(sold or '0')
end

-- A JSON string of a value validated as visible ASCII at the door (idempotency keys, campaign ids): only the
-- quote and the backslash need escaping.
local function json_string(value)
  if not string.find(value, '["\\]') then
    return '"' .. value .. '"'
  end
  return '"' .. (string.gsub(value, '["\\]', '\\%0')) .. '"'
end

-- The three elements a batch record's order made with a coupon ends with (batch_order), comma first.
local function coupon_event(coupon)
  return string.format(',%s,%d,%d', json_string(coupon.id), coupon.discount, coupon.seq)
end

-- One order of a batch record: [orderNo, userId, quantity, amountMinor, createdMs, deadlineMs, seq, idempotencyKey],
-- and for an order made with a coupon three more: couponId, discountMinor, the pool's decision sequence of its lock.
-- The order number travels as a string (consumers with 53-bit numbers stay exact). seq is the SKU's decision
-- sequence number of the reservation, 0 where it is not known. coupon: nil, or coupon_decode's table. r as for
-- ledger_encode. C#: ReservationBatch.
local function batch_order(orderNo, r, idempotencyKey, seq, coupon)
  local order = '["' .. orderNo .. '",' .. r.user .. ',' .. r.quantity .. ',' .. string.format('%d', r.amount) .. ',' .. r.created
    .. ',' .. r.deadline .. ',' .. string.format('%d', seq) .. ',' .. json_string(idempotencyKey)
  if coupon then
    order = order .. coupon_event(coupon)
  end
  return order .. ']'
end

-- The coupon an order was made with, as reserve-many.lua gets it and keeps it in the SKU's coupons hash:
-- couponId|discountMinor|poolSeq (the pool's decision sequence of the coupon's lock). nil for '' (no coupon).
-- C#: CouponUse.
local function coupon_decode(value)
  if not value or value == '' then
    return nil
  end
  local id, discount, seq = string.match(value, '^([^|]+)|(%d+)|(%d+)$')
  if not id then
    error('malformed coupon use: ' .. value)
  end
  return { id = id, discount = tonumber(discount), seq = tonumber(seq) }
end

-- A coupon pool's lock of one order number: userId|skuId|discountMinor|createdMs|state, state T (tried: the coupon is
-- held, its order not yet known to exist), L (locked by an order that exists), R (redeemed: paid), C (released) or
-- X (cancelled before any Try: an empty rollback, kept so that a late Try is refused). C#: CouponLock.
local function lock_decode(record)
  local user, sku, discount, created, state = string.match(record, '^(%d+)|(%d+)|(%d+)|(%d+)|([TLRCX])$')
  if not state then
    error('malformed coupon lock: ' .. record)
  end
  return { user = user, sku = sku, discount = tonumber(discount), created = tonumber(created), state = state }
end

local function lock_encode(l)
  return string.format('%s|%s|%d|%d|%s', l.user, l.sku, l.discount, l.created, l.state)
end

-- Whether a lock holds its coupon (tried, locked or redeemed), as opposed to released or never tried.
local function lock_holds(l)
  return l.state == 'T' or l.state == 'L' or l.state == 'R'
end

-- Puts a batch of reservation events on the SKU's outbox stream as one entry, the Kafka record's value as it will
-- be sent (field batch) and the order numbers it carries (field orders, comma-separated); returns the entry's id and
-- the value. orders: the batch_order strings; orderNos: their order numbers. C#: OutboxEntry, ReservationBatch.
local function outbox_add(outbox, campaignId, skuId, orders, orderNos)
  local value = string.format('{"version":3,"campaignId":%s,"skuId":%s,"orders":[%s]}',
    json_string(campaignId), skuId, table.concat(orders, ','))
  local id = redis.call('XADD', outbox, '*', 'v', '3', 'orders', table.concat(orderNos, ','), 'batch', value)
  return id, value
end

-- Raises the SKU's fence: until recovery lowers it, no reservation is decided (reason kept for operators).
local function fence(meta, reason)
  redis.call('HSETNX', meta, 'fenced', reason)
end

-- A decision that changes the ledger advances the SKU's decision sequence.
local function advance(meta)
  return redis.call('HINCRBY', meta, 'seq', 1)
end

-- Stock came back (a release, a reload, a restock): a new stock generation, and every Ingress is told to
-- drop a sold-out answer it keeps in memory. member is "campaignId:skuId".
local function stock_returned(meta, member)
  redis.call('HINCRBY', meta, 'gen', 1)
  redis.call('PUBLISH', STOCK_RETURNED_CHANNEL, member)
end
