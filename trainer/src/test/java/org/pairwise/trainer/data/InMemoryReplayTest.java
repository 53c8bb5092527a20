package org.pairwise.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InMemoryReplayTest {
    static List<PreferencePair> pairs(int from, int to) {
        List<PreferencePair> out = new ArrayList<>();
        for (int i = from; i <= to; i++) {
            out.add(new PreferencePair(i, "vote " + i, new int[] {1, i}, new int[] {i, 2}, new int[] {3}, i / 4,
                    i % 2 == 0 ? 1.0 : 0.5, i % 3 == 0 ? 0.25 : Double.NaN));
        }
        return out;
    }

    @Test
    void drawsAreDistinctEarlierPairsAndNoneBeforeAnyWereTrained() {
        InMemoryReplay r = new InMemoryReplay(3, 100);
        assertEquals(List.of(), r.draw(4));
        r.trained(pairs(1, 3));
        List<PreferencePair> d = r.draw(5);
        assertEquals(3, d.size(), "no more than were trained");
        assertEquals(3, new HashSet<>(d.stream().map(PreferencePair::id).toList()).size(), "distinct");
        r.trained(pairs(4, 20));
        assertEquals(4, new HashSet<>(r.draw(4).stream().map(PreferencePair::id).toList()).size());
    }

    /** Through JSON and back, a restored buffer draws what the original draws next, with the pairs' own fields. */
    @Test
    void aRestoredBufferDrawsExactlyWhatTheOriginalWould() throws Exception {
        InMemoryReplay a = new InMemoryReplay(11, 6);
        a.trained(pairs(1, 15));
        a.draw(2);
        ObjectMapper json = new ObjectMapper();
        @SuppressWarnings("unchecked")
        Map<String, Object> saved = json.readValue(json.writeValueAsString(a.state()), Map.class);
        InMemoryReplay b = new InMemoryReplay(11, 6);
        b.restore(saved);
        for (int round = 0; round < 5; round++) {
            List<PreferencePair> x = a.draw(3), y = b.draw(3);
            assertEquals(x.size(), y.size());
            for (int i = 0; i < x.size(); i++) {
                PreferencePair p = x.get(i), q = y.get(i);
                assertEquals(p.id(), q.id());
                assertArrayEquals(p.chosenIds(), q.chosenIds());
                assertEquals(p.policyVersion(), q.policyVersion());
                assertEquals(p.weight(), q.weight());
                assertEquals(p.labelSmoothing(), q.labelSmoothing());  // NaN survives JSON as null
            }
            a.trained(pairs(16 + round, 16 + round));
            b.trained(pairs(16 + round, 16 + round));
        }
        String msg = assertThrows(IllegalArgumentException.class, () -> new InMemoryReplay(12, 6).restore(saved))
                .getMessage();
        assertTrue(msg.contains("seed 12"), msg);
    }

    /**
     * The reservoir keeps a uniform sample of everything trained: over many seeds, each of 40 pairs streamed into a
     * 10-pair reservoir is kept with probability 1/4 (binomial bounds at about 5 standard deviations).
     */
    @Test
    void theReservoirIsAUniformSampleOfAllTrainedPairs() {
        int seeds = 4000, n = 40, k = 10;
        int[] kept = new int[n + 1];
        for (long seed = 0; seed < seeds; seed++) {
            InMemoryReplay r = new InMemoryReplay(seed, k);
            r.trained(pairs(1, n));
            assertEquals(k, r.size());
            for (PreferencePair p : r.draw(k)) {
                kept[(int) p.id()]++;
            }
        }
        double mean = seeds * (double) k / n, sd = Math.sqrt(seeds * 0.25 * 0.75);
        for (int i = 1; i <= n; i++) {
            assertEquals(mean, kept[i], 5 * sd, "pair " + i);
        }
    }
}
