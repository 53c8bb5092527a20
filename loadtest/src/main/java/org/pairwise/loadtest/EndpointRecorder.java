package org.pairwise.loadtest;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Latencies and outcomes of one endpoint, recorded from any event loop. Latencies go to an HdrHistogram
 * {@link Recorder} (wait-free for the recording threads); once a second {@link #tick} moves the interval into the
 * run's total and into the time series, so the report can chart throughput and latency over time.
 */
public final class EndpointRecorder {
    /** Microseconds, 1 us to 1 hour, 3 significant digits. */
    static final long MAX_MICROS = 3_600_000_000L;

    /** One second of the run: successful operations and their latency. */
    public record Point(double t, long ok, double p50Ms, double p90Ms, double p99Ms, double maxMs) {}

    private final String name;
    private final Recorder recorder = new Recorder(1, MAX_MICROS, 3);
    private final Histogram total = new Histogram(1, MAX_MICROS, 3);
    private final Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
    private final LongAdder errors = new LongAdder();
    private final List<Point> series = new ArrayList<>();
    private Histogram interval;

    public EndpointRecorder(String name) {
        this.name = name;
    }

    public String name() {
        return name;
    }

    /** A completed operation: latency from its intended start, in nanoseconds. */
    public void ok(long latencyNanos) {
        recorder.recordValue(Math.min(MAX_MICROS, Math.max(1, latencyNanos / 1000)));
    }

    /** Every HTTP response (status) or transport failure (status 0), retries included. */
    public void status(int status) {
        statuses.computeIfAbsent(status, s -> new LongAdder()).increment();
    }

    /** An operation that ended without success. */
    public void error() {
        errors.increment();
    }

    /** Moves what was recorded since the last tick into the total and the series. One thread at a time. */
    public synchronized void tick(double secondsSinceStart) {
        interval = recorder.getIntervalHistogram(interval);
        total.add(interval);
        series.add(new Point(round(secondsSinceStart), interval.getTotalCount(), ms(interval.getValueAtPercentile(50)),
                ms(interval.getValueAtPercentile(90)), ms(interval.getValueAtPercentile(99)),
                ms(interval.getMaxValue())));
    }

    /** The totals; call after the last tick. */
    public synchronized EndpointSummary summary(double elapsedSeconds) {
        Map<String, Long> byStatus = new TreeMap<>();
        statuses.forEach((s, n) -> byStatus.put(s == 0 ? "transport" : Integer.toString(s), n.sum()));
        long ok = total.getTotalCount();
        return new EndpointSummary(name, ok, errors.sum(), elapsedSeconds > 0 ? round(ok / elapsedSeconds) : 0,
                byStatus, new EndpointSummary.Latency(ms(total.getValueAtPercentile(50)),
                ms(total.getValueAtPercentile(90)), ms(total.getValueAtPercentile(99)),
                ms(total.getValueAtPercentile(99.9)), ms(total.getMaxValue()), round(total.getMean() / 1000)),
                List.copyOf(series));
    }

    private static double ms(long micros) {
        return round(micros / 1000.0);
    }

    static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
