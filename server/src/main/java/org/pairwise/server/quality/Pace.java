package org.pairwise.server.quality;

import java.util.Arrays;

/**
 * How fast one annotator votes, from the times of their votes. The gaps between consecutive votes are the time each
 * vote after the first took; a gap longer than {@link #BREAK_MILLIS} is a break (lunch, the next day), not work, and
 * is left out of both figures. activeMillis is the sum of the other gaps; votesPerHour = (their count) / (activeMillis
 * in hours), the rate while working; medianSecondsBetweenVotes is their median. Both are NaN without a counted gap
 * (one vote, or only breaks); votesPerHour also when every counted gap is 0 ms.
 */
public record Pace(String annotator, int votes, long firstAtMillis, long lastAtMillis, long activeMillis,
                   int countedGaps, double votesPerHour, double medianSecondsBetweenVotes) {

    /** 30 minutes: longer than anyone looks at one pair, shorter than the gap between two sittings. */
    public static final long BREAK_MILLIS = 30 * 60_000L;

    /** timesMillis: the annotator's vote times, in any order (at least one). */
    public static Pace of(String annotator, long[] timesMillis) {
        if (timesMillis.length == 0) {
            throw new IllegalArgumentException("a pace needs at least one vote, " + annotator + " has none");
        }
        long[] t = timesMillis.clone();
        Arrays.sort(t);
        long[] gaps = new long[t.length - 1];
        int counted = 0;
        long active = 0;
        for (int i = 1; i < t.length; i++) {
            long gap = t[i] - t[i - 1];
            if (gap <= BREAK_MILLIS) {
                gaps[counted++] = gap;
                active += gap;
            }
        }
        double perHour = active == 0 ? Double.NaN : counted * 3_600_000.0 / active;
        double median = Double.NaN;
        if (counted > 0) {
            long[] g = Arrays.copyOf(gaps, counted);
            Arrays.sort(g);
            median = (counted % 2 == 1 ? g[counted / 2] : (g[counted / 2 - 1] + g[counted / 2]) / 2.0) / 1000.0;
        }
        return new Pace(annotator, t.length, t[0], t[t.length - 1], active, counted, perHour, median);
    }
}
