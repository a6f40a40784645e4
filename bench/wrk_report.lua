-- Used by bench/pages.py. Arguments after `--`: a file of Cookie headers, one logged-in user a line;
-- each request carries the next one's. Counts responses other than 200 across wrk's threads and prints
-- one JSON line.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non200 = 0
  requests = {}
  for cookie in io.lines(args[1]) do
    table.insert(requests, wrk.format(nil, nil, {Cookie = cookie}))
  end
  next_request = 0
end

function request()
  next_request = next_request % #requests + 1
  return requests[next_request]
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non200")
  end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "non200": %d, "errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), bad, errors))
end
