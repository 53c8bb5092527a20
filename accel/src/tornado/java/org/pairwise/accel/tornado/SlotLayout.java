package org.pairwise.accel.tornado;

import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray;

/**
 * What a recorded sequence does with each of its slots (one per distinct tensor, or per flat buffer its views share,
 * holding the range of it the calls touch, see {@link Binding}), worked out once from its ops before any graph is
 * built: which calls use a slot first and
 * last, whether its value must come from the host, which of the sequence's one or two parts use and write it, where
 * each call's per-call values sit in the packed arrays, and the calls between which each frozen array is used.
 *
 * <p>Parts: a sequence can be compiled together with the one that follows it after a host step (a forward, then the
 * backward once the host has computed the loss): part 0 is ops [0, split), part 1 the rest. One part where split is
 * the op count.
 */
final class SlotLayout {
    final int slots, ops, split, parts;
    /** Per slot: its size in floats (the range it holds), the first and last op that use it, the first and last part. */
    final long[] size;
    final int[] firstOp, lastOp, firstPart, lastPart;
    /**
     * Per slot: whether its value comes from the host before the sequence runs (read first, or first written over less
     * than the slot's range).
     */
    final boolean[] input;
    final boolean[] written;
    /** Per part and slot: whether the part uses it, and whether it writes it. */
    final boolean[][] usedIn, writtenIn;
    /**
     * Input slots that stay on the device from one run to the next (their last use is moved to the last op, where the
     * next run's first graph takes them); null where there are none. See {@link Fused#resident}.
     */
    final boolean[] resident;
    /** Per op: where its per-call ints and floats start in its part's packed array. */
    final int[] intAt, floatAt;
    /** Per part: the packed arrays' lengths, and the first and last op with any (-1: none). */
    final int[] intCount = new int[2], floatCount = new int[2];
    final int[] firstInts = {-1, -1}, lastInts = {-1, -1}, firstFloats = {-1, -1}, lastFloats = {-1, -1};
    /** Frozen arrays (weights, rope tables) to the first and last op that read them. */
    final Map<TornadoNativeArray, int[]> constants = new IdentityHashMap<>();

    /** b binds the ops' tensors to slots; resident may be null. */
    SlotLayout(List<Op> ops, int split, Binding b, boolean[] resident) {
        this.slots = b.slots();
        this.ops = ops.size();
        this.split = split;
        this.parts = split < this.ops ? 2 : 1;
        this.resident = resident;
        size = new long[slots];
        firstOp = new int[slots];
        lastOp = new int[slots];
        firstPart = new int[slots];
        lastPart = new int[slots];
        input = new boolean[slots];
        written = new boolean[slots];
        usedIn = new boolean[2][slots];
        writtenIn = new boolean[2][slots];
        intAt = new int[this.ops];
        floatAt = new int[this.ops];
        Arrays.fill(firstOp, -1);
        for (int i = 0; i < this.ops; i++) {
            Op op = ops.get(i);
            int p = part(i);
            packValues(op, i, p);
            for (Op.Access a : op.accesses) {
                int s = b.slot(a.t());
                if (firstOp[s] < 0) {
                    firstOp[s] = i;
                    size[s] = b.size(s);
                    // the first call that uses it decides: anything but an overwrite of the slot's range needs the
                    // host's value
                    input[s] = !writesOnly(op, a.t(), size[s]);
                }
                lastOp[s] = i;
                written[s] |= a.write();
                usedIn[p][s] = true;
                writtenIn[p][s] |= a.write();
            }
            for (TornadoNativeArray c : op.constants) {
                int at = i;
                constants.computeIfAbsent(c, k -> new int[] {at, at})[1] = at;
            }
        }
        for (int s = 0; s < slots; s++) {
            if (resident(s)) {
                lastOp[s] = this.ops - 1; // carried to the last chunk, where the next run's first chunk takes it
            }
            firstPart[s] = part(firstOp[s]);
            lastPart[s] = part(lastOp[s]);
        }
    }

    int part(int op) {
        return op < split ? 0 : 1;
    }

    boolean resident(int slot) {
        return resident != null && resident[slot];
    }

    private void packValues(Op op, int i, int p) {
        intAt[i] = intCount[p];
        floatAt[i] = floatCount[p];
        if (op.ints != null) {
            intCount[p] += op.ints.length;
            firstInts[p] = firstInts[p] < 0 ? i : firstInts[p];
            lastInts[p] = i;
        }
        if (op.floats != null) {
            floatCount[p] += op.floats.length;
            firstFloats[p] = firstFloats[p] < 0 ? i : firstFloats[p];
            lastFloats[p] = i;
        }
    }

    /** Whether op uses t only through writes, one of them over n floats (the whole slot: none of its old value). */
    static boolean writesOnly(Op op, TornadoTensor t, long n) {
        boolean all = false;
        for (Op.Access a : op.accesses) {
            if (a.t() == t) {
                if (a.read()) {
                    return false;
                }
                all |= a.n() == n;
            }
        }
        return all;
    }

    /** Whether op's accesses to t include a read (so TornadoVM streams its slot in before the op's task runs). */
    static boolean reads(Op op, TornadoTensor t) {
        for (Op.Access a : op.accesses) {
            if (a.t() == t && a.read()) {
                return true;
            }
        }
        return false;
    }
}
