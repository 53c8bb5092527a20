package org.pairwise.loadtest;

/**
 * When each operation of an open-loop run is due: a constant arrival rate, fixed in advance and independent of how
 * fast the server answers. Latency is measured from these intended times, not from when a request happened to be
 * sent, so a stall in the server (or in this client) shows up in every request it delayed: no coordinated omission.
 *
 * <p>Arrival {@code i} (0-based) is due at {@code start + i * interval}; this schedule holds the arrivals {@code i}
 * with {@code i % stride == offset}, so several event loops can share one rate without talking to each other.
 */
public final class OpenLoopSchedule {
    private final long startNanos;
    private final double intervalNanos;
    private final long limit;
    private final long endNanos;
    private final int stride;
    private long next;

    /**
     * @param ratePerSecond arrivals per second over all strides
     * @param limit         arrivals at most over all strides (Long.MAX_VALUE for none)
     * @param endNanos      no arrival is due at or after this time (Long.MAX_VALUE for none)
     */
    public OpenLoopSchedule(long startNanos, double ratePerSecond, long limit, long endNanos, int offset, int stride) {
        if (!(ratePerSecond > 0) || Double.isInfinite(ratePerSecond)) {
            throw new IllegalArgumentException("rate must be a positive number, got " + ratePerSecond);
        }
        if (stride < 1 || offset < 0 || offset >= stride) {
            throw new IllegalArgumentException("offset " + offset + " is not in 0.." + (stride - 1));
        }
        this.startNanos = startNanos;
        this.intervalNanos = 1e9 / ratePerSecond;
        this.limit = limit;
        this.endNanos = endNanos;
        this.stride = stride;
        this.next = offset;
    }

    /** The intended start of arrival {@code i}. */
    public long dueNanos(long i) {
        return startNanos + (long) (i * intervalNanos);
    }

    /** Whether this schedule has arrivals left. */
    public boolean hasNext() {
        return next < limit && dueNanos(next) < endNanos;
    }

    /** Intended start of the next arrival of this schedule; only when {@link #hasNext}. */
    public long peekDue() {
        return dueNanos(next);
    }

    /** The index of the next arrival, and moves past it; only when {@link #hasNext}. */
    public long take() {
        long i = next;
        next += stride;
        return i;
    }
}
