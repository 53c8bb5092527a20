package org.pairwise.server.quality;

/**
 * The Wilson score interval for a binomial proportion (Wilson 1927; method 3 of Newcombe 1998): the p for which
 * |p̂ − p| = z·sqrt(p(1 − p)/n). Unlike the Wald interval p̂ ± z·sqrt(p̂(1 − p̂)/n) it stays inside [0, 1] and keeps its
 * coverage near 0 and 1 (a careful annotator's gold accuracy, a rare word's rate).
 */
public final class Wilson {
    private Wilson() {}

    /** The 0.975 quantile of the standard normal: two-sided 95%. */
    public static final double Z95 = 1.959963984540054;

    /** successes out of n, the rate successes/n and its interval [low, high]. */
    public record Proportion(int successes, int n, double rate, double low, double high) {
        /** Whether the two intervals share no point (a conservative test of a difference). */
        public boolean separatedFrom(Proportion o) {
            return low > o.high || o.low > high;
        }
    }

    /** The two-sided 95% interval. */
    public static Proportion interval(int successes, int n) {
        return interval(successes, n, Z95);
    }

    /** The interval for any z > 0 (z = 1.6449 for 90%, 2.5758 for 99%). */
    public static Proportion interval(int successes, int n, double z) {
        if (n <= 0 || successes < 0 || successes > n) {
            throw new IllegalArgumentException("need 0 <= successes <= n and n > 0, got " + successes + "/" + n);
        }
        if (!(z > 0) || Double.isInfinite(z)) {
            throw new IllegalArgumentException("z must be a positive finite number, got " + z);
        }
        double p = successes / (double) n;
        double z2 = z * z;
        double denom = 1 + z2 / n;
        double center = (p + z2 / (2.0 * n)) / denom;
        double half = z * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / denom;
        // At 0/n and n/n one root is exactly 0 (or 1); rounding must not move it off the observed rate.
        double low = successes == 0 ? 0 : Math.max(0, center - half);
        double high = successes == n ? 1 : Math.min(1, center + half);
        return new Proportion(successes, n, p, low, high);
    }
}
