package org.pairwise.accel.tornado;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The key a recorded sequence's compiled form is found by. Per call: its shape, then each tensor it touches as (slot,
 * size, how it is used), frozen arrays by identity, and the lengths of its per-call values. Tensors are named by slot
 * (order of first use in the sequence), not by identity, so a sequence over fresh tensors of the same shapes (a new KV
 * cache, an uploaded dlogp) has the same key; a view counts as its base (one slot per flat buffer).
 */
final class SequenceKey {
    private SequenceKey() {}

    /** An array named by identity (a frozen weight or a rope table): its contents never change. */
    private record Ref(Object o) {
        @Override
        public boolean equals(Object other) {
            return other instanceof Ref r && r.o == o;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(o);
        }
    }

    /** The key of ops; fills slotOf (tensor to slot, in order of first use). */
    static List<Object> of(List<Op> ops, Map<TornadoTensor, Integer> slotOf) {
        List<Object> key = new ArrayList<>(ops.size());
        for (Op op : ops) {
            List<Object> k = new ArrayList<>(op.shape);
            for (Op.Access a : op.accesses) {
                Integer s = slotOf.get(a.t());
                if (s == null) {
                    s = slotOf.size();
                    slotOf.put(a.t(), s);
                }
                k.add(s);
                k.add(a.t().size());
                k.add((a.read() ? 1 : 0) + (a.write() ? 2 : 0) + (a.whole() ? 4 : 0));
            }
            for (Object c : op.constants) {
                k.add(new Ref(c));
            }
            k.add(op.ints == null ? -1 : op.ints.length);
            k.add(op.floats == null ? -1 : op.floats.length);
            key.add(k);
        }
        return key;
    }

    /** Slot to tensor: the inverse of slotOf. */
    static TornadoTensor[] bind(Map<TornadoTensor, Integer> slotOf) {
        TornadoTensor[] bind = new TornadoTensor[slotOf.size()];
        slotOf.forEach((t, s) -> bind[s] = t);
        return bind;
    }
}
