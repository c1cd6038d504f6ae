-- wrk script for the reservation route: POST {"quantity":1} with a buyer's bearer token and an
-- Idempotency-Key unique per request (thread, counter, start time), so against a SKU with stock to spare
-- every answer is a 201, and against the constant endpoint the same request stream is sent.
--   WRK_PATH    the route, e.g. /api/v1/campaigns/c/skus/1/reservations
--   WRK_TOKENS  a file of "Bearer ..." lines, one per buyer; requests cycle through them
--   WRK_KEY     "unique" (default): a new Idempotency-Key per request; otherwise that fixed key for all
-- done() prints one machine-readable line, "WRK_RESULT key=value ...", that the shell scripts parse.

local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

local path = os.getenv("WRK_PATH") or "/api/v1/campaigns/lt/skus/1/reservations"
local fixed_key = os.getenv("WRK_KEY")
if fixed_key == "unique" then fixed_key = nil end
local body = '{"quantity":1}'
local tokens = {}
local counter = 0
local prefix

function init(args)
  local file = os.getenv("WRK_TOKENS")
  if file then
    for line in io.lines(file) do
      if #line > 0 then tokens[#tokens + 1] = line end
    end
  end
  -- Thread number and start time: keys stay unique across threads and across runs on the same campaign.
  prefix = string.format("w%d-%d-", id, os.time())
  counter = 0
end

function request()
  counter = counter + 1
  local headers = { ["Content-Type"] = "application/json" }
  if #tokens > 0 then
    -- Threads start at different buyers so that two threads do not send the same buyer in step.
    headers["Authorization"] = tokens[((counter + id * 7919) % #tokens) + 1]
  end
  headers["Idempotency-Key"] = fixed_key or (prefix .. counter)
  return wrk.format("POST", path, headers, body)
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT requests=%d seconds=%.3f rps=%.1f p50_us=%d p99_us=%d max_us=%d non2xx3xx=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50), latency:percentile(99), latency.max,
    e.status, e.connect, e.read, e.write, e.timeout))
end
