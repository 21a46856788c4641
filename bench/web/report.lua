-- shared: print one RESULT line with req/s and latency percentiles (ms)
function report(summary, latency)
  local secs = summary.duration / 1e6
  io.write(string.format("RESULT %10.0f %10.2f %10.2f %10.2f  (errors: %d non-2xx, %d socket)\n",
    summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
