package org.pairwise.server.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

/**
 * A small campaign worked by hand, shared by the quality tests at every layer (the computation, the SQLite store,
 * the HTTP route, the dashboard). Four annotators, five pairs:
 *
 * <pre>
 *         p1  p2  p3  p4  p5
 *   ann    a   a   b   a   .
 *   ben    a   a   b   b   .
 *   cat    a   b   a   .   .
 *   dan    .   .   .   .  tie
 * </pre>
 *
 * <p>Agreement with the others' majority (leave-one-out; a tie among the others sets the pair aside): ann agrees on
 * p1, is tied on p2 and p3 (others a/b, b/a), disagrees on p4 (ben said b): 1 of 2, 2 tied; ben the same by
 * symmetry; cat agrees on p1, disagrees on p2 (others a, a) and p3 (others b, b): 1 of 3; dan shares no pair.
 * Wilson 95% intervals: 1/2 -> [0.0945, 0.9055], 1/3 -> [0.0615, 0.7923].
 *
 * <p>Cohen's kappa: ann-ben share p1..p4, p_o = 3/4, marginals ann (a 3/4, b 1/4), ben (a 1/2, b 1/2), p_e = 1/2,
 * κ = 0.5; ann-cat and ben-cat share p1..p3, p_o = 1/3, both (a 2/3, b 1/3), p_e = 5/9, κ = (1/3 - 5/9)/(4/9) =
 * -0.5.
 *
 * <p>Fleiss over p1..p4 (p5 has one vote): P_i = 1, 1/3, 1/3, 0, P̄ = 5/12; 11 votes, a 7, b 4, P̄_e = 65/121,
 * κ = (5/12 - 65/121)/(56/121) = -175/672. Krippendorff: coincidences o_aa = 3 + 1 = 4, o_ab = o_ba = 1 + 1 + 1 = 3,
 * o_bb = 1; n_a = 7, n_b = 4, n = 11; D_o = 6/11, D_e = 56/110, α = 1 - 60/56 = -1/14.
 *
 * <p>Pace (seconds after the start): ann 0, 10, 40, 7240 (the last gap, 2 h, is a break): 2 gaps in 40 s, 180
 * votes/h, median 20 s; ben 0, 5, 15, 30: 3 gaps in 30 s, 360/h, median 10 s; cat 0, 60, 180: 2 gaps in 180 s,
 * 40/h, median 90 s; dan one vote: neither figure.
 */
public final class HandExample {
    private HandExample() {}

    public record Vote(String pair, String annotator, String choice, long secondsAfterStart) {}

    public static final List<String> PAIRS = List.of("p1", "p2", "p3", "p4", "p5");

    public static final List<Vote> VOTES = List.of(
            new Vote("p1", "ann", "a", 0), new Vote("p2", "ann", "a", 10), new Vote("p3", "ann", "b", 40),
            new Vote("p4", "ann", "a", 7240),
            new Vote("p1", "ben", "a", 0), new Vote("p2", "ben", "a", 5), new Vote("p3", "ben", "b", 15),
            new Vote("p4", "ben", "b", 30),
            new Vote("p1", "cat", "a", 0), new Vote("p2", "cat", "b", 60), new Vote("p3", "cat", "a", 180),
            new Vote("p5", "dan", "tie", 0));

    public static final double COHEN_ANN_BEN = 0.5, COHEN_WITH_CAT = -0.5;
    public static final double FLEISS_OBSERVED = 5.0 / 12, FLEISS_EXPECTED = 65.0 / 121, FLEISS = -175.0 / 672;
    public static final double ALPHA = -1.0 / 14;
    /** Wilson 95% for 1/2 and 1/3, to the 4 decimals printed above. */
    public static final double[] WILSON_1_2 = {0.0945, 0.9055}, WILSON_1_3 = {0.0615, 0.7923};

    /** The report's figures against the hand-computed ones (pace only where the vote times are the example's). */
    public static void assertFigures(QualityReport r, boolean withPace) {
        assertEquals(12, r.votes());
        assertEquals(5, r.items());
        assertEquals(4, r.itemsWithTwoOrMore());
        assertEquals(List.of("ann", "ben", "cat", "dan"), r.annotators().stream().map(AnnotatorStats::annotator)
                .toList());
        int[][] agreement = {{2, 1, 2}, {2, 1, 2}, {3, 1, 0}, {0, 0, 0}}; // compared, agreed, tied
        for (int i = 0; i < 4; i++) {
            MajorityAgreement m = r.annotators().get(i).agreement();
            assertEquals(agreement[i][0], m.compared(), m.toString());
            assertEquals(agreement[i][1], m.agreed(), m.toString());
            assertEquals(agreement[i][2], m.tied(), m.toString());
        }
        assertInterval(HandExample.WILSON_1_2, r.annotators().get(0).agreement().rate().orElseThrow());
        assertInterval(HandExample.WILSON_1_3, r.annotators().get(2).agreement().rate().orElseThrow());
        assertTrue(r.annotators().get(3).agreement().rate().isEmpty());
        assertEquals(HandExample.FLEISS_OBSERVED, r.fleiss().observed(), 1e-12);
        assertEquals(HandExample.FLEISS_EXPECTED, r.fleiss().expected(), 1e-12);
        assertEquals(HandExample.FLEISS, r.fleiss().kappa(), 1e-12);
        assertEquals(4, r.fleiss().items());
        assertEquals(HandExample.ALPHA, r.alpha().alpha(), 1e-12);
        assertEquals(11, r.alpha().pairableValues());
        if (withPace) {
            double[][] pace = {{4, 180, 20, 40}, {4, 360, 10, 30}, {3, 40, 90, 180}}; // votes, /h, median s, active s
            for (int i = 0; i < 3; i++) {
                Pace p = r.annotators().get(i).pace();
                assertEquals((int) pace[i][0], p.votes(), p.toString());
                assertEquals(pace[i][1], p.votesPerHour(), 1e-12, p.toString());
                assertEquals(pace[i][2], p.medianSecondsBetweenVotes(), 1e-12, p.toString());
                assertEquals((long) (pace[i][3] * 1000), p.activeMillis(), p.toString());
            }
            Pace dan = r.annotators().get(3).pace();
            assertEquals(1, dan.votes());
            assertTrue(Double.isNaN(dan.votesPerHour()) && Double.isNaN(dan.medianSecondsBetweenVotes()));
        }
    }

    private static void assertInterval(double[] printed, Wilson.Proportion p) {
        assertEquals(printed[0], p.low(), 5e-5, p.toString());
        assertEquals(printed[1], p.high(), 5e-5, p.toString());
    }
}
