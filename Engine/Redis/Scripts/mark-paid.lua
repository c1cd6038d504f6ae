-- Records in the SKU ledger that an order's units are sold (paid). KEYS: 1 ledger. ARGV: 1 order number.
-- Reply: 1 marked (or already paid); 0 unknown to the ledger; -1 the ledger says released.
local record = redis.call('HGET', KEYS[1], ARGV[1])
if not record then
  return 0
end
local head, state = string.match(record, '^(.*)|(%a)$')
if state == 'C' then
  return -1
end
if state == 'R' then
  redis.call('HSET', KEYS[1], ARGV[1], head .. '|P')
end
return 1
