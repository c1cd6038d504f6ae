-- Settles reservation events Kafka has confirmed durable. A whole outbox entry (a batch whose record Kafka holds)
-- leaves the relay group's pending list (XACK) and the outbox stream (XDEL), and its orders lose their pending
-- marks, in one step, so no entry can stay in the stream once it left the pending list, nor an order stay
-- "not yet durable" once its entry is gone. An order whose event was sent on its own (a replay rebuilt it from
-- the ledger) loses only its mark: the rest of its entry is not known to be durable.
-- Called by the Ingress after its own produce and by the relay after a safety-net produce; either may come
-- second, and then finds nothing left to do.
-- KEYS: 1 outbox, 2 pending. ARGV: 1 the relay's consumer group, then per entry: id, whole (1 or 0), the number
--       of orders, and their order numbers.
-- Reply (C#: SkuScripts.SettleAsync): { DONE, removed } entries removed now (marks, for orders settled on their own);
--        { ALREADY_DONE, 0 } everything was gone already.
local removed = 0
local i = 2
while i <= #ARGV do
  local id, whole, count = ARGV[i], ARGV[i + 1] == '1', tonumber(ARGV[i + 2])
  if whole then
    redis.call('XACK', KEYS[1], ARGV[1], id)
    removed = removed + redis.call('XDEL', KEYS[1], id)
  end
  if count > 0 then
    -- Only a mark naming this entry: an order's pending mark names the entry its reservation wrote. One HMGET reads the
    -- entry's marks and one HDEL drops those, whatever the batch's size.
    local orders = { unpack(ARGV, i + 3, i + 2 + count) }
    local marks = redis.call('HMGET', KEYS[2], unpack(orders))
    local mine = {}
    for j = 1, count do
      if marks[j] == id then
        mine[#mine + 1] = orders[j]
      end
    end
    if #mine > 0 then
      local unmarked = redis.call('HDEL', KEYS[2], unpack(mine))
      if not whole then
        removed = removed + unmarked
      end
    end
  end
  i = i + 3 + count
end
if removed == 0 then
  return { CODE.ALREADY_DONE, 0 }
end
return { CODE.DONE, removed }
