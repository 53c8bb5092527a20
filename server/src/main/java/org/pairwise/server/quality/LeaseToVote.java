package org.pairwise.server.quality;

import java.util.Arrays;

/**
 * How long one annotator takes per pair: from being handed it (the lease) to their vote, the time spent reading and
 * judging it, whatever they did between pairs. measured: the votes with a lease before them (a vote cast without
 * one, by a script or before leases existed, has no start to measure from); the median is NaN when none has.
 */
public record LeaseToVote(int measured, double medianSeconds) {
    public static final LeaseToVote NONE = new LeaseToVote(0, Double.NaN);

    /** millis: each measured vote's created_at minus its lease's leased_at (negative ones are clock noise: 0). */
    public static LeaseToVote of(long[] millis) {
        if (millis.length == 0) {
            return NONE;
        }
        long[] m = millis.clone();
        for (int i = 0; i < m.length; i++) {
            m[i] = Math.max(0, m[i]);
        }
        Arrays.sort(m);
        int n = m.length;
        double median = n % 2 == 1 ? m[n / 2] : (m[n / 2 - 1] + m[n / 2]) / 2.0;
        return new LeaseToVote(n, median / 1000.0);
    }
}
