package org.pairwise.server.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class WilsonTest {

    @Test
    void matchesNewcombesPublishedIntervals() {
        // Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I, method 3 (score
        // interval without continuity correction), as the launcher's StatsTest has long checked them:
        // 81/263 -> 0.2553 to 0.3662; 15/148 -> 0.0624 to 0.1605.
        Wilson.Proportion p = Wilson.interval(81, 263);
        assertEquals(0.2553, p.low(), 5e-5);
        assertEquals(0.3662, p.high(), 5e-5);
        Wilson.Proportion q = Wilson.interval(15, 148);
        assertEquals(0.0624, q.low(), 5e-5);
        assertEquals(0.1605, q.high(), 5e-5);
    }

    /** The interval's ends are the two roots in p of (p̂ − p)² = z²·p(1 − p)/n: check that on random inputs, any z. */
    @Test
    void boundsSolveTheScoreEquationForAnyZ() {
        Random rnd = new Random(7);
        for (int t = 0; t < 2000; t++) {
            int n = 1 + rnd.nextInt(500);
            int k = rnd.nextInt(n + 1);
            double z = 0.1 + 3.5 * rnd.nextDouble();
            Wilson.Proportion w = Wilson.interval(k, n, z);
            double phat = k / (double) n;
            for (double p : new double[] {w.low(), w.high()}) {
                double lhs = (phat - p) * (phat - p);
                double rhs = z * z * p * (1 - p) / n;
                assertEquals(lhs, rhs, 1e-12, k + "/" + n + " z=" + z + " bound " + p);
            }
            assertTrue(w.low() <= phat && phat <= w.high());
            assertTrue(w.low() >= 0 && w.high() <= 1);
        }
    }

    @Test
    void edgesAndBadInput() {
        assertEquals(0, Wilson.interval(0, 50).low(), 1e-15);
        assertEquals(1, Wilson.interval(50, 50).high(), 1e-15);
        assertTrue(Wilson.interval(40, 100, 2.5758).high() > Wilson.interval(40, 100).high(), "99% is wider");
        assertThrows(IllegalArgumentException.class, () -> Wilson.interval(0, 0));
        assertThrows(IllegalArgumentException.class, () -> Wilson.interval(3, 2));
        assertThrows(IllegalArgumentException.class, () -> Wilson.interval(1, 2, 0));
        assertThrows(IllegalArgumentException.class, () -> Wilson.interval(1, 2, Double.NaN));
    }
}
