package org.pairwise.accel.tornado;

import java.util.ArrayList;
import java.util.List;

/**
 * The key a recorded sequence's compiled form is found by: per call, its shape, then each access as (slot, where it
 * starts in the slot, floats, how it is used), frozen arrays by identity, and the lengths of its per-call values; then
 * every slot's size. Tensors are named by slot ({@link Binding}), not by identity, and ranges by where they sit in their
 * slots, so a sequence over fresh tensors of the same sizes (a new KV cache, an uploaded dlogp) or a single call on
 * another matrix of the same shape in a flat buffer (each layer's LoRA A, run call by call) has the same key; a copy's
 * offsets travel per call ({@link Op#offsetInt}), so one that copies into a cache at another position has it too.
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

    static List<Object> of(List<Op> ops, Binding b) {
        List<Object> key = new ArrayList<>(ops.size() + 1);
        for (Op op : ops) {
            List<Object> k = new ArrayList<>(op.shape);
            for (Op.Access a : op.accesses) {
                k.add(b.slot(a.t()));
                k.add(a.perCall() ? -1 : a.off() - b.lo(b.slot(a.t())));
                k.add(a.n());
                k.add((a.read() ? 1 : 0) + (a.write() ? 2 : 0));
            }
            for (Object c : op.constants) {
                k.add(new Ref(c));
            }
            k.add(op.ints == null ? -1 : op.ints.length);
            k.add(op.floats == null ? -1 : op.floats.length);
            key.add(k);
        }
        List<Long> sizes = new ArrayList<>(b.slots());
        for (int s = 0; s < b.slots(); s++) {
            sizes.add(b.size(s));
        }
        key.add(sizes);
        return key;
    }
}
