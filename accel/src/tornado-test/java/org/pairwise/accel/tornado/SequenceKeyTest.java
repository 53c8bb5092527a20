package org.pairwise.accel.tornado;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
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

    private static List<Object> key(List<Op> ops, Map<TornadoTensor, Integer> slotOf) {
        return SequenceKey.of(ops, slotOf);
    }

    @Test
    void freshTensorsOfTheSameShapesMakeTheSameSequenceAndViewsShareTheirBuffersSlot() {
        Map<TornadoTensor, Integer> a = new IdentityHashMap<>(), b = new IdentityHashMap<>();
        Tensor p = be.allocate(40), x = be.allocate(8), out = be.allocate(6), out2 = be.allocate(6);
        List<Object> k1 = key(calls(p, 3, x, out, out2, 0), a);
        List<Object> k2 = key(calls(be.allocate(40), 3, be.allocate(8), be.allocate(6), be.allocate(6), 0), b);
        assertEquals(k1, k2);
        // slots in order of first use: x, then p (all three views of it), then out, then out2
        assertEquals(4, a.size());
        assertEquals(0, a.get(TornadoTensor.base(x)));
        assertEquals(1, a.get(TornadoTensor.base(p)));
        assertEquals(2, a.get(TornadoTensor.base(out)));
        assertEquals(3, a.get(TornadoTensor.base(out2)));
    }

    @Test
    void offsetsAKernelIsBuiltWithAreInTheKeyOffsetsThatTravelPerCallAreNot() {
        Tensor p = be.allocate(40), x = be.allocate(8), out = be.allocate(6), out2 = be.allocate(6);
        List<Object> k = key(calls(p, 3, x, out, out2, 0), new IdentityHashMap<>());
        // another offset of the weight and gradient views: the kernels take it when the graph is built
        assertNotEquals(k, key(calls(p, 4, x, out, out2, 0), new IdentityHashMap<>()));
        // another source offset of the copy: per-call ints, one compiled copy for all
        assertEquals(k, key(calls(p, 3, x, out, out2, 9), new IdentityHashMap<>()));
        // a buffer of another size
        assertNotEquals(k, key(calls(be.allocate(41), 3, x, out, out2, 0), new IdentityHashMap<>()));
    }

    @Test
    void frozenWeightsCountByIdentityAndWholeWritesApart() {
        MemorySegment seg = Arena.ofAuto().allocate(4 * 12);
        Weight w1 = be.weight(seg, DType.F32, 3, 4), w2 = be.weight(seg, DType.F32, 3, 4);
        Tensor x = be.allocate(8), out = be.allocate(6);
        List<Op> a = List.of(LinearCalls.matmulForward(out, x, w1, null, 2, 4, 3));
        assertEquals(key(a, new IdentityHashMap<>()), key(a, new IdentityHashMap<>()));
        assertNotEquals(key(a, new IdentityHashMap<>()),
                key(List.of(LinearCalls.matmulForward(out, x, w2, null, 2, 4, 3)), new IdentityHashMap<>()),
                "another weight with the same values is another sequence: its array is bound when the graph is built");
        Tensor buf = be.allocate(10);
        assertNotEquals(key(List.of(PointwiseCalls.zero(buf)), new IdentityHashMap<>()),
                key(List.of(PointwiseCalls.zero(be.view(buf, 0, 9))), new IdentityHashMap<>()),
                "a whole write needs no old value, a partial one does");
    }
}
