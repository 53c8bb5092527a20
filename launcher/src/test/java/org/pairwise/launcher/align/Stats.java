package org.pairwise.launcher.align;

import org.pairwise.server.quality.Wilson;

/**
 * The few statistics the alignment proof needs: a binomial proportion with its Wilson score interval, a mean with its
 * normal-approximation interval, and Welch's t for two means with unequal variances.
 */
public final class Stats {
    private Stats() {}

    /** The 0.975 quantile of the standard normal: two-sided 95%. */
    public static final double Z95 = Wilson.Z95;

    /** A proportion k/n with a 95% interval [low, high]. */
    public record Proportion(int successes, int n, double rate, double low, double high) {
        /** Whether the two 95% intervals share no point (a conservative test of a difference at roughly 1%). */
        public boolean separatedFrom(Proportion o) {
            return low > o.high || o.low > high;
        }
    }

    /** A sample mean with its standard deviation and a 95% interval for the mean. */
    public record Mean(int n, double mean, double sd, double low, double high) {
        public boolean separatedFrom(Mean o) {
            return low > o.high || o.low > high;
        }
    }

    /** The 95% Wilson score interval ({@link Wilson}): it keeps its coverage near 0, where a minority word starts. */
    public static Proportion wilson(int successes, int n) {
        Wilson.Proportion w = Wilson.interval(successes, n);
        return new Proportion(w.successes(), w.n(), w.rate(), w.low(), w.high());
    }

    /** Mean ± z·sd/sqrt(n): the samples here number in the hundreds, where the t and normal quantiles agree. */
    public static Mean mean(double[] xs) {
        int n = xs.length;
        if (n < 2) {
            throw new IllegalArgumentException("need at least 2 values for a mean with an interval, got " + n);
        }
        double m = 0;
        for (double x : xs) {
            m += x;
        }
        m /= n;
        double ss = 0;
        for (double x : xs) {
            ss += (x - m) * (x - m);
        }
        double sd = Math.sqrt(ss / (n - 1));
        double half = Z95 * sd / Math.sqrt(n);
        return new Mean(n, m, sd, m - half, m + half);
    }

    /** Welch's t statistic for mean(a) − mean(b); |t| above ~1.97 is significant at 5% for the sizes used here. */
    public static double welchT(Mean a, Mean b) {
        double se = Math.sqrt(a.sd() * a.sd() / a.n() + b.sd() * b.sd() / b.n());
        return se == 0 ? (a.mean() == b.mean() ? 0 : Math.copySign(Double.POSITIVE_INFINITY, a.mean() - b.mean()))
                : (a.mean() - b.mean()) / se;
    }

    /** Welch–Satterthwaite degrees of freedom of {@link #welchT}. */
    public static double welchDf(Mean a, Mean b) {
        double va = a.sd() * a.sd() / a.n();
        double vb = b.sd() * b.sd() / b.n();
        double den = va * va / (a.n() - 1) + vb * vb / (b.n() - 1);
        return den == 0 ? Double.POSITIVE_INFINITY : (va + vb) * (va + vb) / den;
    }
}
