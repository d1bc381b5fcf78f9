-- wrk script for bench/admission.sh: POSTs AdmissionReviews (a Pod and a
-- Deployment, alternating) to /validate over the connection's keep-alive
-- TLS session, paced to RATE requests/s across CONNS connections, and
-- reports latency percentiles (including p99.9) and errors as one line.
local dir = os.getenv("BODIES") or "."
local rate = tonumber(os.getenv("RATE") or "500")
local conns = tonumber(os.getenv("CONNS") or "10")
local bodies = {}
local n = 0
local bad = 0

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

function init(args)
  bodies[1] = read(dir .. "/pod.json")
  bodies[2] = read(dir .. "/deployment.json")
end

function request()
  n = n + 1
  return wrk.format("POST", "/validate", {["Content-Type"] = "application/json"}, bodies[(n % 2) + 1])
end

-- Milliseconds to wait before this connection's next request: CONNS
-- connections each sending every CONNS*1000/RATE ms give RATE/s.
function delay()
  return conns * 1000 / rate
end

function response(status, headers, body)
  if status ~= 200 or not string.find(body, '"uid"', 1, true) then
    bad = bad + 1
  end
end

-- Per-thread bad-answer counts are summed in done() through the threads.
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local bad_total = 0
  for _, t in ipairs(threads) do
    bad_total = bad_total + (t:get("bad") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT {\"requests\": %d, \"duration_us\": %d, \"p50_us\": %d, \"p99_us\": %d, \"p999_us\": %d, \"max_us\": %d, \"mean_us\": %.1f, \"errors\": {\"connect\": %d, \"read\": %d, \"write\": %d, \"status\": %d, \"timeout\": %d, \"bad_answer\": %d}}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout, bad_total))
end
