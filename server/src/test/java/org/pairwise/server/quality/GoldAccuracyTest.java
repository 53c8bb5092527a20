package org.pairwise.server.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.pairwise.server.quality.GoldAccuracy.GoldVote;

/** Gold accuracy counted by hand: ann 2 of 3 (a tie on a gold pair is a miss), ben 0 of 1, cat none. */
class GoldAccuracyTest {
    @Test
    void countsHitsPerAnnotatorWithTheirWilsonInterval() {
        List<GoldAccuracy> got = GoldAccuracy.perAnnotator(List.of(new GoldVote("ben", "a", "b"),
                new GoldVote("ann", "a", "a"), new GoldVote("ann", "b", "b"), new GoldVote("ann", "tie", "a")));
        assertEquals(List.of(new GoldAccuracy("ann", 3, 2), new GoldAccuracy("ben", 1, 0)), got);
        Wilson.Proportion ann = got.get(0).rate().orElseThrow();
        // 2/3 at 95%: the mirror of 1/3's [0.0615, 0.7923] (Wilson's interval is symmetric under p -> 1 - p).
        assertEquals(1 - 0.7923, ann.low(), 5e-5);
        assertEquals(1 - 0.0615, ann.high(), 5e-5);
        assertEquals(0.0, got.get(1).rate().orElseThrow().low());
        assertTrue(new GoldAccuracy("cat", 0, 0).rate().isEmpty());
        assertThrows(IllegalArgumentException.class,
                () -> GoldAccuracy.perAnnotator(List.of(new GoldVote("ann", "a", "tie"))));
    }
}
