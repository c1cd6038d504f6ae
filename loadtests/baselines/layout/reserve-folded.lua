-- EXPERIMENT, not the engine's script: a proposed keyspace for a SKU, measured against reserve-many.lua by
-- loadtests/baselines/redis-layout.sh for Redis bytes and CPU per reservation (issue 11). Nothing in the engine loads it.
-- What differs from reserve-many.lua:
--   * buyers: one field per buyer in KEYS[3], its units bought and the Idempotency-Keys it made orders with, folded into
--     one value: count \1key\1orderNo \1key\1orderNo ... (\1 cannot occur in a key, which is visible ASCII); no separate
--     idempotency hash, so one HMGET reads a buyer's count and keys and one HSET writes them;
--   * ledger: small hashes of 32 consecutive decisions each, KEYS[4] .. ':' .. (floor(seq / 32) % SHARDS), which Redis
--     keeps in its compact listpack encoding (under hash-max-listpack-entries); a batch writes one or two of them.
--     The engine would derive the shard from the order number instead (consecutive numbers of one millisecond), so that
--     any script can find an order's shard from its number; seq stands in for that here.
-- Left out, as they cost nothing on the path measured (every request a new buyer's created order): key reuse with
-- another quantity, coupons, the fence. Same ARGV and reply layout as reserve-many.lua.
local SHARDS = 40000
local meta = redis.call('HMGET', KEYS[1], 'available', 'starts', 'ends', 'limit', 'price', 'window', 'gen', 'seq', 'fenced', 'epoch')
if not meta[1] then
  return { CODE.NOT_WARMED }
end
local available = tonumber(meta[1])
local starts, ends, limit = tonumber(meta[2]), tonumber(meta[3]), tonumber(meta[4])
local price, window = tonumber(meta[5]), tonumber(meta[6])
local seq = tonumber(meta[8] or '0')
local epoch = tonumber(meta[10] or '0')
local STRIDE = 5
local n = (#ARGV - 4) / STRIDE
local userFields, users = {}, {}
for i = 1, n do
  local user = ARGV[STRIDE * i]
  if not users[user] then
    userFields[#userFields + 1] = user
    users[user] = { index = #userFields }
  end
end
local folded = redis.call('HMGET', KEYS[3], unpack(userFields))
for _, u in pairs(users) do
  local v = folded[u.index]
  if v then
    local c = string.match(v, '^(%d+)')
    u.bought, u.rest = tonumber(c), string.sub(v, #c + 1)
  else
    u.bought, u.rest = 0, ''
  end
end
local reply = { CODE.DONE, epoch, seq, available, meta[7], price, window, 0, 0, 0 }
local now
local taken = 0
local shardWrites, pendingWrites, orders, orderNos = {}, {}, {}, {}
for i = 1, n do
  local base = STRIDE * i - 1
  local user, key, quantity, orderNo = ARGV[base + 1], ARGV[base + 2], tonumber(ARGV[base + 3]), ARGV[base + 4]
  local u = users[user]
  local code, a = nil, 0
  local prior
  local _, e = string.find(u.rest, '\1' .. key .. '\1', 1, true)
  if e then
    prior = string.match(u.rest, '^(%d+)', e + 1)
  end
  if prior then
    code, a = CODE.REPLAYED, prior
  else
    now = now or now_ms()
    if now < starts then
      code = CODE.NOT_STARTED
    elseif now >= ends then
      code = CODE.ENDED
    elseif u.bought + quantity > limit then
      code = CODE.PURCHASE_LIMIT
    elseif available < quantity then
      code = CODE.SOLD_OUT
    else
      seq = seq + 1
      available = available - quantity
      taken = taken + quantity
      u.bought = u.bought + quantity
      u.rest = u.rest .. '\1' .. key .. '\1' .. orderNo
      u.changed = true
      local r = { user = user, quantity = quantity, amount = price * quantity, created = now, deadline = now + window * 1000, state = 'R' }
      local shard = KEYS[4] .. ':' .. (math.floor(seq / 32) % SHARDS)
      local w = shardWrites[shard]
      if not w then
        w = {}
        shardWrites[shard] = w
      end
      w[#w + 1] = orderNo
      w[#w + 1] = ledger_encode(r)
      orders[#orders + 1] = batch_order(orderNo, r, key, seq, nil)
      orderNos[#orderNos + 1] = orderNo
      code, a = CODE.DONE, seq
    end
  end
  reply[#reply + 1] = code
  reply[#reply + 1] = a
  reply[#reply + 1] = 0
  reply[#reply + 1] = 0
  reply[#reply + 1] = ''
end
if #orders > 0 then
  redis.call('HSET', KEYS[1], 'available', available, 'seq', seq)
  count_state(KEYS[1], 'R', taken)
  local userWrites = {}
  for user, u in pairs(users) do
    if u.changed then
      userWrites[#userWrites + 1] = user
      userWrites[#userWrites + 1] = u.bought .. u.rest
    end
  end
  redis.call('HSET', KEYS[3], unpack(userWrites))
  for shard, w in pairs(shardWrites) do
    redis.call('HSET', shard, unpack(w))
  end
  local id, value = outbox_add(KEYS[5], ARGV[1], ARGV[2], orders, orderNos)
  for i = 1, #orderNos do
    pendingWrites[#pendingWrites + 1] = orderNos[i]
    pendingWrites[#pendingWrites + 1] = id
  end
  redis.call('HSET', KEYS[6], unpack(pendingWrites))
  reply[3], reply[4], reply[9], reply[10] = seq, available, id, value
end
reply[8] = now or 0
return reply
