package org.pairwise.accel.tornado;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Pairs of sequences that keep following each other with host work between them (a DPO step's [AdamW + zero +
 * forward + log-probs], the loss on the host, then [backward + gradient norm]), each compiled as the two parts of one
 * {@link Fused} run one at a time, so that what the second part takes from the first, and what the next run's first
 * part takes from the second, never leaves the device. Each sequence joins at most one pair; pairs are never evicted.
 */
final class Pairing {
    /** A compiled pair, built from ops (split after the first part). */
    static final class Pair {
        Fused fused;
        final List<Object> key;
        final List<Op> ops;
        final Binding binding;
        final int split;
        /** The calls of the first part as last run (the second part's key is checked against them). */
        List<Op> firstOps;

        Pair(Fused fused, List<Object> key, List<Op> ops, Binding binding, int split) {
            this.fused = fused;
            this.key = key;
            this.ops = ops;
            this.binding = binding;
            this.split = split;
        }
    }

    private final Transfers transfers;
    /** Compiled pairs by the key of their first part; the keys already in a pair; pairs of keys seen once. */
    private final Map<List<Object>, Pair> byFirstKey = new HashMap<>();
    private final Set<List<Object>> paired = new HashSet<>();
    private final Set<List<Object>> candidates = new HashSet<>();
    /** The pair whose first part ran last (its second part may come next), and the last sequence run alone. */
    private Pair awaiting;
    private List<Op> last;
    private List<Object> lastKey;

    Pairing(Transfers transfers) {
        this.transfers = transfers;
    }

    /** The pair whose first part ran just before, if any; asked once per sequence run. */
    Pair takeAwaiting() {
        Pair p = awaiting;
        awaiting = null;
        return p;
    }

    /** The pair whose first part has this key, or null. */
    Pair startingWith(List<Object> key) {
        return byFirstKey.get(key);
    }

    void ranFirstPart(Pair p, List<Op> ops) {
        p.firstOps = ops;
        awaiting = p;
        last = null;
    }

    void ranSecondPart() {
        last = null;
    }

    /**
     * After a sequence ran on its own: if it and the sequence before it have followed each other twice, they become a
     * compiled pair; returns the two keys then (their own compiled sequences are no longer run), else nothing.
     */
    List<List<Object>> learn(List<Op> ops, List<Object> key) {
        List<List<Object>> joined = List.of();
        if (ops.size() > 1 && last != null && !lastKey.equals(key) && !paired.contains(lastKey)
                && !paired.contains(key)) {
            if (candidates.size() > 64) {
                candidates.clear(); // pairs seen once are only candidates: keep a few
            }
            List<Op> all = concat(last, ops);
            Binding b = new Binding(all);
            List<Object> k = SequenceKey.of(all, b);
            // Seen twice, the two alternate. Start the pair with the one that reads first what the pair writes (the
            // optimizer step before the forward, not the backward): only the first part's inputs can stay on the
            // device from one run to the next. If that is the other order, wait for it (it comes next), so that the
            // pair is built from two sequences that ran one after the other.
            if (!candidates.add(k) && stuck(all, last.size()) <= stuck(concat(ops, last), ops.size())) {
                byFirstKey.put(lastKey, new Pair(new Fused(all, last.size(), b, null, transfers), k, all, b,
                        last.size()));
                paired.add(lastKey);
                paired.add(key);
                candidates.clear();
                joined = List.of(lastKey, key);
            }
        }
        last = ops.size() > 1 ? ops : null;
        lastKey = key;
        return joined;
    }

    Collection<Pair> all() {
        return byFirstKey.values();
    }

    long bytes() {
        long b = 0;
        for (Pair p : byFirstKey.values()) {
            b += p.fused.bytes;
        }
        return b;
    }

    void clear() {
        byFirstKey.clear();
        awaiting = null;
    }

    /** How many tensors the second part (from op split) reads first although the pair writes them. */
    static int stuck(List<Op> ops, int split) {
        Set<TornadoTensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        Set<TornadoTensor> written = Collections.newSetFromMap(new IdentityHashMap<>());
        List<TornadoTensor> secondInputs = new ArrayList<>();
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            for (Op.Access a : op.accesses) {
                if (seen.add(a.t()) && i >= split && !SlotLayout.writesOnly(op, a.t(), a.t().size())) {
                    secondInputs.add(a.t());
                }
                if (a.write()) {
                    written.add(a.t());
                }
            }
        }
        return (int) secondInputs.stream().filter(written::contains).count();
    }

    static List<Op> concat(List<Op> a, List<Op> b) {
        List<Op> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
