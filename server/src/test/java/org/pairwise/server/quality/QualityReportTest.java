package org.pairwise.server.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The report against {@link HandExample}'s hand computation, and the one-pass Cohen table against the direct one. */
class QualityReportTest {
    static final double EXACT = 1e-12;

    static QualityReport handReport(int minShared) {
        List<Annotation> labels = new ArrayList<>();
        Map<String, List<Long>> times = new HashMap<>();
        for (HandExample.Vote v : HandExample.VOTES) {
            labels.add(new Annotation(v.pair(), v.annotator(), v.choice()));
            times.computeIfAbsent(v.annotator(), k -> new ArrayList<>()).add(1_700_000_000_000L
                    + v.secondsAfterStart() * 1000);
        }
        Map<String, long[]> t = new HashMap<>();
        times.forEach((a, l) -> t.put(a, l.stream().mapToLong(Long::longValue).toArray()));
        return QualityReport.of(labels, t, minShared);
    }

    @Test
    void reproducesTheHandComputedExample() {
        QualityReport r = handReport(3);
        HandExample.assertFigures(r, true);
        assertEquals(3, r.pairwise().size());
        CohenKappa annBen = r.pairwise().get(0);
        assertEquals(List.of("ann", "ben", 4), List.of(annBen.annotatorA(), annBen.annotatorB(),
                annBen.sharedItems()));
        assertEquals(HandExample.COHEN_ANN_BEN, annBen.kappa(), EXACT);
        for (CohenKappa k : r.pairwise().subList(1, 3)) {
            assertEquals("cat", k.annotatorB());
            assertEquals(3, k.sharedItems());
            assertEquals(HandExample.COHEN_WITH_CAT, k.kappa(), EXACT);
        }
    }

    @Test
    void pairsSharingFewerThanMinSharedAreLeftOut() {
        List<CohenKappa> four = handReport(4).pairwise();
        assertEquals(1, four.size());
        assertEquals("ann", four.getFirst().annotatorA());
        assertEquals(0, handReport(5).pairwise().size());
        assertThrows(IllegalArgumentException.class, () -> handReport(0));
    }

    @Test
    void paceTakesGapsInAnyOrderAndLeavesBreaksOut() {
        // Unsorted; gaps 1 s, 3 s, 31 min (a break), 5 s: 3 counted in 9 s, median 3 s.
        Pace p = Pace.of("x", new long[] {4_000, 1_000, 0, 1_864_000, 1_869_000});
        assertEquals(5, p.votes());
        assertEquals(3, p.countedGaps());
        assertEquals(9_000, p.activeMillis());
        assertEquals(3 * 3600 / 9.0, p.votesPerHour(), EXACT);
        assertEquals(3.0, p.medianSecondsBetweenVotes(), EXACT);
        assertEquals(0, p.firstAtMillis());
        assertEquals(1_869_000, p.lastAtMillis());
        // Exactly BREAK_MILLIS is still work; one millisecond more is a break.
        assertEquals(1, Pace.of("y", new long[] {0, Pace.BREAK_MILLIS}).countedGaps());
        assertEquals(0, Pace.of("y", new long[] {0, Pace.BREAK_MILLIS + 1}).countedGaps());
        assertThrows(IllegalArgumentException.class, () -> Pace.of("z", new long[0]));
    }

    @Test
    void onePassCohenTableEqualsTheDirectKappaOfEveryPair() {
        Random rnd = new Random(11);
        String[] choices = {"a", "b", "tie", "both_bad"};
        for (int round = 0; round < 20; round++) {
            List<Annotation> votes = new ArrayList<>();
            int annotators = 2 + rnd.nextInt(8);
            for (int item = 0; item < 60; item++) {
                for (int a = 0; a < annotators; a++) {
                    if (rnd.nextInt(3) == 0) {
                        votes.add(new Annotation("i" + item, "r" + a, choices[rnd.nextInt(1 + rnd.nextInt(4))]));
                    }
                }
            }
            AnnotationTable table = AnnotationTable.of(votes);
            int minShared = 1 + rnd.nextInt(12);
            List<CohenKappa> expected = new ArrayList<>();
            List<String> names = new ArrayList<>(table.annotators());
            for (int i = 0; i < names.size(); i++) {
                for (int j = i + 1; j < names.size(); j++) {
                    CohenKappa k = CohenKappa.of(table, names.get(i), names.get(j));
                    if (k.sharedItems() >= minShared) {
                        expected.add(k);
                    }
                }
            }
            // Records compare their doubles bit for bit (NaN equals NaN): the same figures, not merely close ones.
            assertEquals(expected, CohenKappa.allPairs(table, minShared), "round " + round);
        }
    }
}
