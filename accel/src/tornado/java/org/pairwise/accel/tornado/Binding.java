package org.pairwise.accel.tornado;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * How one run of a recorded sequence maps its tensors to the sequence's slots: one slot per distinct tensor (a view
 * counts as its base), in order of first use. A single call's slot holds only the range [lo, hi) of its tensor that it
 * touches (run call by call, a call that reads one LoRA matrix of an adapter's flat buffer brings that matrix, not the
 * buffer, and one compiled call serves every matrix of its shape); a sequence of several calls holds whole tensors, so
 * that its two parts (a compiled pair) and its resident runs agree on where every slot starts.
 */
final class Binding {
    /** A slot's contents for a run: floats [lo, lo + slot size) of t. */
    record Bound(TornadoTensor t, long lo) {}

    private final Map<TornadoTensor, Integer> slotOf = new IdentityHashMap<>();
    private final List<TornadoTensor> tensors = new ArrayList<>();
    private final List<long[]> ranges = new ArrayList<>();

    Binding(List<Op> ops) {
        boolean whole = ops.size() > 1;
        for (Op op : ops) {
            for (Op.Access a : op.accesses) {
                Integer s = slotOf.get(a.t());
                if (s == null) {
                    slotOf.put(a.t(), tensors.size());
                    tensors.add(a.t());
                    ranges.add(whole ? new long[] {0, a.t().size()} : new long[] {a.off(), a.off() + a.n()});
                } else {
                    long[] r = ranges.get(s);
                    r[0] = Math.min(r[0], a.off());
                    r[1] = Math.max(r[1], a.off() + a.n());
                }
            }
        }
    }

    int slots() {
        return tensors.size();
    }

    int slot(TornadoTensor t) {
        return slotOf.get(t);
    }

    TornadoTensor tensor(int s) {
        return tensors.get(s);
    }

    long lo(int s) {
        return ranges.get(s)[0];
    }

    /** Floats of slot s: the range its calls touch. */
    long size(int s) {
        return ranges.get(s)[1] - ranges.get(s)[0];
    }

    Bound bound(int s) {
        return new Bound(tensors.get(s), lo(s));
    }

    /** Whether slot s holds all of its tensor (a write over all of it needs nothing from elsewhere). */
    boolean whole(int s) {
        return lo(s) == 0 && size(s) == tensors.get(s).size();
    }
}
