-- Settles reservation events Kafka has confirmed durable: each leaves the relay group's pending list
-- (XACK), the outbox stream (XDEL) and the SKU's pending index, in one step, so no entry can stay in the
-- stream once it left the pending list, nor an order stay "not yet durable" once its entry is gone.
-- Called by the Ingress after its own produce and by the relay after a safety-net produce; either may
-- come second, and then finds nothing left to do.
-- KEYS: 1 outbox, 2 pending. ARGV: 1 the relay's consumer group, then pairs of (entry id, order number).
-- Reply (C#: SkuScripts.SettleAsync): { DONE, removed } at least one entry was removed now;
--        { ALREADY_DONE, 0 } every entry was gone already.
local removed = 0
for i = 2, #ARGV, 2 do
  local id, orderNo = ARGV[i], ARGV[i + 1]
  redis.call('XACK', KEYS[1], ARGV[1], id)
  removed = removed + redis.call('XDEL', KEYS[1], id)
  -- Only this entry's mark: an order's pending mark names the entry reserve.lua wrote for it.
  if redis.call('HGET', KEYS[2], orderNo) == id then
    redis.call('HDEL', KEYS[2], orderNo)
  end
end
if removed == 0 then
  return { CODE.ALREADY_DONE, 0 }
end
return { CODE.DONE, removed }
