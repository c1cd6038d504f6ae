-- Lifts a SKU's fence once recovery has rebuilt it: the caller has waited until MySQL holds everything Kafka
-- had and adopted every live order Redis forgot, so the ledger now holds every unit that was ever acknowledged.
-- The stock becomes total minus the units the ledger holds (its running counts, read here, so nothing slips in
-- between), and the decision sequence is raised to at least the highest one persisted, so the SKU is not behind
-- MySQL any more, and a new decision epoch begins (see reserve-many.lua): an Ingress still remembering a position of the
-- old epoch, higher than this Redis ever reached, does not fence the rebuilt SKU again.
-- KEYS: 1 meta. ARGV: 1 the persisted high-water sequence, 2 "campaignId:skuId".
-- Reply (C#: SkuScripts.RecoverAsync): { DONE, available, seq } unfenced; { NOT_FENCED, available, seq } there was
--        no fence (nothing changed); { NOT_WARMED, 0, 0 }; { NOT_COUNTED, 0, 0 } the SKU's counts are not exact
--        yet (count.lua first; the fence stays up).
local meta = redis.call('HMGET', KEYS[1], 'total', 'available', 'seq', 'fenced', 'epoch', 'reserved', 'sold', 'counted')
if not meta[1] then
  return { CODE.NOT_WARMED, 0, 0 }
end
local seq = tonumber(meta[3] or '0')
if not meta[4] then
  return { CODE.NOT_FENCED, tonumber(meta[2]), seq }
end
local held = held_from_counts(meta[6], meta[7], meta[8])
if not held then
  return { CODE.NOT_COUNTED, 0, 0 }
end
local available = math.max(0, tonumber(meta[1]) - held)
local highWater = tonumber(ARGV[1])
if seq < highWater then
  seq = highWater
end
seq = seq + 1
-- Never behind the epoch this Redis had, also when its clock is behind the old master's.
local epoch = math.max(now_ms(), tonumber(meta[5] or '0') + 1)
redis.call('HSET', KEYS[1], 'available', available, 'seq', seq, 'epoch', epoch)
redis.call('HDEL', KEYS[1], 'fenced')
-- The stock may have come back and every Ingress must drop a sold-out answer it kept from before.
stock_returned(KEYS[1], ARGV[2])
return { CODE.DONE, available, seq }
