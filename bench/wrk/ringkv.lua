-- wrk script for ringkv (Debian's wrk 4.x): random keys, PUT/GET/mix, spread over ring nodes.
--   WRK_MODE=get|put|mix   (default get; mix = 50/50)
--   WRK_KEYS=N             GETs read bench-0 .. bench-(N-1), which must be loaded first
--   WRK_VALUE_BYTES=N      PUT body size (default 100)
--   WRK_PORTS=p1,p2,...    thread i talks to 127.0.0.1:p(i mod count) (default: the URL's)
--   WRK_RUN=tag            PUTs write new keys wrk-<tag>-<thread>-<n> (no siblings)
-- At the end one line `WRK_JSON {...}` with requests/s, latency percentiles (ms) and errors.
-- wrk is closed loop: latency is measured from each request's send.
--   wrk -t2 -c64 -d10s -s bench/wrk/ringkv.lua http://127.0.0.1:7070
local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  local ports = os.getenv("WRK_PORTS")
  if ports and ports ~= "" then
    local list = {}
    for p in string.gmatch(ports, "%d+") do list[#list + 1] = p end
    thread.addr = wrk.lookup("127.0.0.1", list[((next_id - 1) % #list) + 1])[1]
  end
  table.insert(threads, thread)
  next_id = next_id + 1
end

local mode = os.getenv("WRK_MODE") or "get"
local keys = tonumber(os.getenv("WRK_KEYS") or "10000")
local run = os.getenv("WRK_RUN") or tostring(os.time())
local body = string.rep("v", tonumber(os.getenv("WRK_VALUE_BYTES") or "100"))
local put_headers = { ["Content-Type"] = "application/octet-stream" }
local n = 0

function init(args)
  math.randomseed(os.time() * 1000 + (id or 0) * 7919)
end

function request()
  n = n + 1
  if mode == "put" or (mode == "mix" and math.random() < 0.5) then
    return wrk.format("PUT", "/kv/wrk-" .. run .. "-" .. (id or 0) .. "-" .. n, put_headers, body)
  end
  return wrk.format("GET", "/kv/bench-" .. math.random(0, keys - 1))
end

function done(summary, latency, requests)
  local s = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"p999_ms":%.3f,"max_ms":%.3f,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d}\n',
    summary.requests, s, summary.requests / s,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.status, e.timeout))
end
