package org.pairwise.trainer.data;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A replay buffer in memory: a uniform reservoir sample (Vitter's algorithm R) of at most {@code capacity} of the
 * pairs trained so far, from which each draw takes distinct pairs uniformly. The reservoir is a uniform sample of
 * everything trained, so a drawn pair is any trained pair with equal probability, as a draw over a whole store
 * would be. Randomness comes from the seed and two counters (pairs seen, draws made), never from a generator's
 * hidden state, so {@link #state()} (seed, counters and the reservoir's pairs) restores it exactly.
 */
public final class InMemoryReplay implements ReplaySource {
    private final long seed;
    private final int capacity;
    private final List<PreferencePair> reservoir = new ArrayList<>();
    private long seen;
    private long draws;

    public InMemoryReplay(long seed, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("a replay buffer holds at least one pair, got capacity " + capacity);
        }
        this.seed = seed;
        this.capacity = capacity;
    }

    @Override
    public List<PreferencePair> draw(int n) {
        int m = Math.min(n, reservoir.size());
        if (m <= 0) {
            return List.of();
        }
        SplittableRandom rng = new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * ++draws));
        int[] idx = new int[reservoir.size()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        List<PreferencePair> out = new ArrayList<>(m);
        for (int i = 0; i < m; i++) {  // the first m steps of a Fisher-Yates shuffle: m distinct, uniform
            int j = i + rng.nextInt(idx.length - i);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
            out.add(reservoir.get(idx[i]));
        }
        return out;
    }

    @Override
    public void trained(List<PreferencePair> pairs) {
        for (PreferencePair p : pairs) {
            seen++;
            if (reservoir.size() < capacity) {
                reservoir.add(p);
            } else {
                long j = new SplittableRandom(seed ^ (0xC2B2AE3D27D4EB4FL * seen)).nextLong(seen);
                if (j < capacity) {
                    reservoir.set((int) j, p);
                }
            }
        }
    }

    /** Pairs in the reservoir now. */
    public int size() {
        return reservoir.size();
    }

    @Override
    public Map<String, Object> state() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("kind", "in_memory");
        s.put("seed", seed);
        s.put("capacity", capacity);
        s.put("seen", seen);
        s.put("draws", draws);
        s.put("pairs", reservoir.stream().map(InMemoryReplay::toJson).toList());
        return s;
    }

    @Override
    @SuppressWarnings("unchecked")
    public void restore(Map<String, Object> state) {
        if (!"in_memory".equals(state.get("kind")) || ((Number) state.get("seed")).longValue() != seed
                || ((Number) state.get("capacity")).intValue() != capacity) {
            throw new IllegalArgumentException("the checkpoint's replay state " + describe(state) + " is not this "
                    + "buffer's (in_memory, seed " + seed + ", capacity " + capacity + ")");
        }
        seen = ((Number) state.get("seen")).longValue();
        draws = ((Number) state.get("draws")).longValue();
        reservoir.clear();
        for (Object o : (List<Object>) state.get("pairs")) {
            reservoir.add(fromJson((Map<String, Object>) o));
        }
    }

    private static String describe(Map<String, Object> s) {
        return "(" + s.get("kind") + ", seed " + s.get("seed") + ", capacity " + s.get("capacity") + ")";
    }

    private static Map<String, Object> toJson(PreferencePair p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", p.id());
        m.put("source", p.source());
        m.put("prompt", p.promptIds());
        m.put("chosen", p.chosenIds());
        m.put("rejected", p.rejectedIds());
        m.put("policy_version", p.policyVersion());
        m.put("weight", p.weight());
        m.put("label_smoothing", Double.isNaN(p.labelSmoothing()) ? null : p.labelSmoothing());  // JSON has no NaN
        return m;
    }

    @SuppressWarnings("unchecked")
    private static PreferencePair fromJson(Map<String, Object> m) {
        Object ls = m.get("label_smoothing");
        return new PreferencePair(((Number) m.get("id")).longValue(), (String) m.get("source"), ints(m.get("prompt")),
                ints(m.get("chosen")), ints(m.get("rejected")), ((Number) m.get("policy_version")).intValue(),
                ((Number) m.get("weight")).doubleValue(),
                ls == null ? PreferencePair.NO_LABEL_SMOOTHING : ((Number) ls).doubleValue());
    }

    @SuppressWarnings("unchecked")
    private static int[] ints(Object o) {
        if (o instanceof int[] a) {
            return a.clone();
        }
        return ((List<Number>) o).stream().mapToInt(Number::intValue).toArray();
    }
}
