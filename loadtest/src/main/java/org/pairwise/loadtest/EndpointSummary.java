package org.pairwise.loadtest;

import java.util.List;
import java.util.Map;

/**
 * One endpoint over the whole run. {@code ok} operations succeeded (a vote retried after 429 is one operation);
 * {@code statuses} counts every response by HTTP status, retries included ("transport" for no response at all);
 * latency percentiles are of successful operations, in milliseconds, from each operation's intended start.
 */
public record EndpointSummary(String endpoint, long ok, long errors, double okPerSecond, Map<String, Long> statuses,
                              Latency latency, List<EndpointRecorder.Point> series) {

    public record Latency(double p50Ms, double p90Ms, double p99Ms, double p999Ms, double maxMs, double meanMs) {}
}
