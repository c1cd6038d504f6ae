-- Adds one Ingress's counts of one second to the deployment's live counters (the operator console's rates and
-- latency): one call per Ingress per second, on one key, so it is safe on a Redis Cluster. The key lives a short
-- while: the console reads the last seconds only.
-- KEYS: 1 the second's hash (RedisKeyspace.LiveSecond). ARGV: 1 TTL (s), then field, count pairs.
-- Reply (C#: SkuScripts.AddLiveCountsAsync): DONE.
for i = 2, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return CODE.DONE
