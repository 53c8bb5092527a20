package org.pairwise.accel.tornado;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.pairwise.accel.Tensor;

/** What a sequence does with each slot, worked out before any graph is built (no device work). */
class SlotLayoutTest {
    private static final TornadoBackend be = new TornadoBackend(1);

    @AfterAll
    static void close() {
        be.close();
    }

    /**
     * A training step's shape over flat buffers, parts [zero grads, scale a param view, zero part of m] and
     * [gradient into a view, AdamW over the buffers]: slots grads, params, m, dout, x, v.
     */
    @Test
    void inputsAreWhatIsReadOrPartlyWrittenFirstAndPartsKnowWhatTheyUse() {
        Tensor grads = be.allocate(30), params = be.allocate(30), m = be.allocate(30), v = be.allocate(30);
        Tensor dout = be.allocate(8), x = be.allocate(10);
        List<Op> ops = List.of(PointwiseCalls.zero(grads), PointwiseCalls.scale(be.view(params, 4, 6), 2f, 6),
                PointwiseCalls.zero(be.view(m, 0, 29)),
                LinearCalls.matmulBackwardWeight(be.view(grads, 10, 20), dout, x, 2, 5, 4),
                PointwiseCalls.adamw(params, grads, m, v, 30, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1));
        Binding b = new Binding(ops);
        SlotLayout l = new SlotLayout(ops, 3, b, null);
        int g = b.slot(TornadoTensor.base(grads)), p = b.slot(TornadoTensor.base(params)),
                mm = b.slot(TornadoTensor.base(m)), vv = b.slot(TornadoTensor.base(v)), d = b.slot(TornadoTensor.base(dout));
        assertEquals(6, l.slots);
        assertEquals(2, l.parts);
        assertFalse(l.input[g], "zeroed whole first: its old value is not needed");
        assertTrue(l.input[p], "a view scaled first: read");
        assertTrue(l.input[mm], "partly zeroed first: the rest is needed");
        assertTrue(l.input[vv] && l.input[d], "read first");
        assertArrayEquals(new int[] {0, 4}, new int[] {l.firstOp[g], l.lastOp[g]});
        assertEquals(0, l.firstPart[g]);
        assertEquals(1, l.lastPart[g]);
        assertEquals(1, l.firstPart[vv]);
        assertTrue(l.usedIn[0][g] && l.usedIn[1][g] && l.writtenIn[1][g]);
        assertFalse(l.usedIn[0][d]);
        assertFalse(l.written[d]);
        assertEquals(30, l.size[p]);
        // per-call values: the scale's factor, then AdamW's six factors in part 1's own array
        assertEquals(1, l.floatCount[0]);
        assertEquals(6, l.floatCount[1]);
        assertEquals(0, l.floatAt[4]);
        assertEquals(-1, l.firstInts[0], "no per-call ints: views' offsets are taken when the graph is built");
    }

    @Test
    void aSingleCallsSlotHoldsTheRangeItTouchesSoAViewItOverwritesIsNoInput() {
        Tensor m = be.allocate(30);
        List<Op> ops = List.of(PointwiseCalls.zero(be.view(m, 5, 10)));
        Binding b = new Binding(ops);
        SlotLayout l = new SlotLayout(ops, ops.size(), b, null);
        assertEquals(5, b.lo(0));
        assertEquals(10, l.size[0]);
        assertFalse(l.input[0], "zeroed over all of its slot first");
        assertFalse(b.whole(0), "but not all of the buffer: the rest stays where it is");
    }

    @Test
    void aResidentSlotLivesToTheLastCall() {
        Tensor p = be.allocate(12), acc = be.allocate(12);
        List<Op> ops = List.of(PointwiseCalls.scale(p, 0.5f, 12), PointwiseCalls.zero(acc), PointwiseCalls.add(acc, p,
                12), PointwiseCalls.zero(acc));
        Binding b = new Binding(ops);
        boolean[] resident = new boolean[b.slots()];
        resident[b.slot(TornadoTensor.base(p))] = true;
        SlotLayout l = new SlotLayout(ops, ops.size(), b, resident);
        assertEquals(3, l.lastOp[b.slot(TornadoTensor.base(p))], "carried to the last call for the next run");
        assertEquals(1, l.parts);
    }
}
