package org.pairwise.accel.tornado;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.pairwise.accel.DType;
import org.pairwise.accel.Tensor;
import org.pairwise.accel.Weight;

/** What makes two recorded sequences the same compiled sequence (no device work: keys only). */
class SequenceKeyTest {
    private static final TornadoBackend be = new TornadoBackend(1);

    @AfterAll
    static void close() {
        be.close();
    }

    /** [matmul through a live view of p, copy a view into out2, scale another view]: LoRA-like calls. */
    private static List<Op> calls(Tensor p, int off, Tensor x, Tensor out, Tensor out2, int copyAt) {
        Tensor w = be.view(p, off, 12), g = be.view(p, off + 12, 5);
        Weight wv = be.weightOf(w, 3, 4);
        return List.of(LinearCalls.matmulForward(out, x, wv, null, 2, 4, 3),
                PointwiseCalls.copy(out2, 0, p, copyAt, 6), PointwiseCalls.scale(g, 0.5f, 5));
    }

    private static List<Object> key(List<Op> ops) {
        return SequenceKey.of(ops, new Binding(ops));
    }

    @Test
    void freshTensorsOfTheSameShapesMakeTheSameSequenceAndViewsShareTheirBuffersSlot() {
        Tensor p = be.allocate(40), x = be.allocate(8), out = be.allocate(6), out2 = be.allocate(6);
        List<Op> ops = calls(p, 3, x, out, out2, 0);
        assertEquals(key(ops), key(calls(be.allocate(40), 3, be.allocate(8), be.allocate(6), be.allocate(6), 0)));
        // slots in order of first use: x, then p (all three views of it), then out, then out2
        Binding b = new Binding(ops);
        assertEquals(4, b.slots());
        assertEquals(List.of(0, 1, 2, 3), List.of(b.slot(TornadoTensor.base(x)), b.slot(TornadoTensor.base(p)),
                b.slot(TornadoTensor.base(out)), b.slot(TornadoTensor.base(out2))));
        // a sequence of several calls holds whole tensors
        assertEquals(40, b.size(1));
        assertTrue(b.whole(1));
    }

    @Test
    void whereAViewSitsIsInTheKeyOfASequenceWhereACopyOffsetIsNot() {
        Tensor p = be.allocate(40), x = be.allocate(8), out = be.allocate(6), out2 = be.allocate(6);
        List<Object> k = key(calls(p, 3, x, out, out2, 0));
        // the views one float further into the buffer: their kernels take where they start when the graph is built
        assertNotEquals(k, key(calls(p, 4, x, out, out2, 0)));
        // the copy from elsewhere: its offsets travel per call (a KV cache filled position by position)
        assertEquals(k, key(calls(p, 3, x, out, out2, 15)));
        assertNotEquals(k, key(calls(be.allocate(41), 3, x, out, out2, 0)), "a buffer of another size");
    }

    @Test
    void aSingleCallOnAMatrixOfAFlatBufferBringsThatMatrixWhereverItIs() {
        Tensor p = be.allocate(40), x = be.allocate(8), out = be.allocate(6);
        Weight first = be.weightOf(be.view(p, 0, 12), 3, 4), later = be.weightOf(be.view(p, 27, 12), 3, 4);
        List<Op> a = List.of(LinearCalls.matmulForward(out, x, first, null, 2, 4, 3)),
                b = List.of(LinearCalls.matmulForward(out, x, later, null, 2, 4, 3));
        assertEquals(key(a), key(b), "one compiled call for every matrix of the shape");
        Binding bound = new Binding(b);
        int slot = bound.slot(TornadoTensor.base(p));
        assertEquals(27, bound.lo(slot));
        assertEquals(12, bound.size(slot));
        assertFalse(bound.whole(slot));
    }

    @Test
    void frozenWeightsCountByIdentity() {
        MemorySegment seg = Arena.ofAuto().allocate(4 * 12);
        Weight w1 = be.weight(seg, DType.F32, 3, 4), w2 = be.weight(seg, DType.F32, 3, 4);
        Tensor x = be.allocate(8), out = be.allocate(6);
        List<Op> a = List.of(LinearCalls.matmulForward(out, x, w1, null, 2, 4, 3));
        assertEquals(key(a), key(a));
        assertNotEquals(key(a), key(List.of(LinearCalls.matmulForward(out, x, w2, null, 2, 4, 3))),
                "another weight with the same values is another sequence: its array is bound when the graph is built");
    }
}
