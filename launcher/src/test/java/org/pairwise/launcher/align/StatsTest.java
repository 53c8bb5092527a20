package org.pairwise.launcher.align;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class StatsTest {

    @Test
    void wilsonIsTheServersScoreInterval() {
        // The interval itself is tested against Newcombe (1998) in server's quality/WilsonTest.
        for (int[] kn : new int[][] {{81, 263}, {0, 50}, {50, 50}, {7, 9}}) {
            Stats.Proportion p = Stats.wilson(kn[0], kn[1]);
            org.pairwise.server.quality.Wilson.Proportion w = org.pairwise.server.quality.Wilson.interval(kn[0], kn[1]);
            assertEquals(new Stats.Proportion(w.successes(), w.n(), w.rate(), w.low(), w.high()), p);
        }
    }

    @Test
    void separationNeedsDisjointIntervals() {
        assertTrue(Stats.wilson(20, 200).separatedFrom(Stats.wilson(60, 200)));
        assertFalse(Stats.wilson(20, 200).separatedFrom(Stats.wilson(30, 200)));
    }

    @Test
    void meanIntervalAndWelch() {
        double[] a = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        Stats.Mean m = Stats.mean(a);
        assertEquals(5.5, m.mean(), 1e-12);
        assertEquals(Math.sqrt(82.5 / 9), m.sd(), 1e-12);
        assertEquals(5.5 - Stats.Z95 * m.sd() / Math.sqrt(10), m.low(), 1e-12);
        double[] b = {3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        Stats.Mean n = Stats.mean(b);
        // Equal variances and sizes: t = (5.5 - 7.5) / sqrt(2 s^2 / 10), df = 18.
        assertEquals(-2 / Math.sqrt(2 * m.sd() * m.sd() / 10), Stats.welchT(m, n), 1e-12);
        assertEquals(18, Stats.welchDf(m, n), 1e-9);
    }

    @Test
    void badInputIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> Stats.wilson(3, 2));
        assertThrows(IllegalArgumentException.class, () -> Stats.wilson(0, 0));
        assertThrows(IllegalArgumentException.class, () -> Stats.mean(new double[] {1}));
    }
}
