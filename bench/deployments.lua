-- wrk script of bench/deployments.sh: paced GET / through HAProxy, counting non-2xx answers and
-- answers per version (the X-App-Version header), and logging every change of version a thread
-- sees, with wall-clock times in ms, so the shell script can tell when each version first and last
-- answered. Times come from gettimeofday (LuaJIT FFI) when the answer is parsed: wrk's own clock
-- is not on the same epoch as the deployment steps in Slipway's store.
--   BENCH_PROBE_DIR  where each thread writes wrk-N.log: "LAST_OLD_MS OLD FIRST_NEW_MS NEW" lines,
--                    and "MS status CODE" for each non-2xx answer; "BENCH last MS VERSION" (printed
--                    by done) closes each thread's last run
--   BENCH_DELAY_MS   pause of each connection between its requests (paces the load)
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_usec; } bench_timeval;
  int gettimeofday(bench_timeval *tv, void *tz);
]]
local clock = ffi.new("bench_timeval")
local function now_ms()
  ffi.C.gettimeofday(clock, nil)
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_usec) / 1000
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  counts = {}
  non2xx = 0
  last_version = "-"
  last_at = 0
  pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
  local dir = os.getenv("BENCH_PROBE_DIR")
  log = dir and io.open(dir .. "/wrk-" .. id .. ".log", "w") or nil
end

function delay()
  return pause
end

function response(status, headers, body)
  local at = now_ms()
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if log then
      log:write(string.format("%.3f status %d\n", at, status))
      log:flush()
    end
    return
  end
  -- HAProxy (HTX) sends header names in lower case.
  local version = headers["x-app-version"] or headers["X-App-Version"] or "?"
  counts[version] = (counts[version] or 0) + 1
  if version ~= last_version then
    if log then
      log:write(string.format("%.3f %s %.3f %s\n", last_at, last_version, at, version))
      log:flush()
    end
    last_version = version
  end
  last_at = at
end

-- Machine-readable lines for the shell script ("BENCH name value"), after wrk's own summary.
function done(summary, latency, requests)
  local non2xx_total, counts_total = 0, {}
  for _, thread in ipairs(threads) do
    non2xx_total = non2xx_total + thread:get("non2xx")
    for version, count in pairs(thread:get("counts")) do counts_total[version] = (counts_total[version] or 0) + count end
    -- The version each thread ended on: its last answer closes its last run.
    print(string.format("BENCH last %.3f %s", thread:get("last_at"), thread:get("last_version")))
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  print(string.format("BENCH requests %d", summary.requests))
  print(string.format("BENCH seconds %.1f", seconds))
  print(string.format("BENCH rate %.0f", summary.requests / seconds))
  print(string.format("BENCH non2xx %d", non2xx_total))
  print(string.format("BENCH socket_errors %d %d %d %d", e.connect, e.read, e.write, e.timeout))
  print(string.format("BENCH latency_ms %.2f %.2f %.2f", latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
  local versions = {}
  for version, count in pairs(counts_total) do table.insert(versions, version .. "=" .. count) end
  table.sort(versions)
  print("BENCH versions " .. table.concat(versions, " "))
end
