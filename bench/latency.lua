-- wrk's --latency stops at p99: loadtest.py reads these lines for p50, p99 and p99.9, in microseconds.
done = function(summary, latency, requests)
  for _, percentile in ipairs({50, 99, 99.9}) do
    io.write(string.format("latency p%g %d\n", percentile, latency:percentile(percentile)))
  end
end
