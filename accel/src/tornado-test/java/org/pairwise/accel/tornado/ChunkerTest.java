package org.pairwise.accel.tornado;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.pairwise.accel.Tensor;

/** How a sequence is cut into graphs under TornadoVM's per-graph limits (no device work: the cut only). */
class ChunkerTest {
    private static final TornadoBackend be = new TornadoBackend(1);

    @AfterAll
    static void close() {
        be.close();
    }

    private static int[] chunk(List<Op> ops, int split) {
        return Chunker.chunk(ops, new SlotLayout(ops, split, new Binding(ops), null));
    }

    /** Checks the cut is in order and that every chunk's estimate stays within the limits. */
    private static int assertWithinLimits(List<Op> ops, int[] chunkOf) {
        int tasks = 0, bytecode = 0, chunk = 0;
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int i = 0; i < ops.size(); i++) {
            assertTrue(chunkOf[i] == chunk || chunkOf[i] == chunk + 1, "op " + i + " in order");
            if (chunkOf[i] != chunk) {
                chunk++;
                tasks = 0;
                bytecode = 0;
                seen.clear();
            }
            List<Object> arrays = new ArrayList<>();
            ops.get(i).accesses.forEach(a -> arrays.add(a.t()));
            bytecode += Chunker.cost(ops.get(i), arrays, seen)[1];
            seen.addAll(arrays);
            tasks += ops.get(i).taskCount;
            assertTrue(tasks <= Chunker.MAX_TASKS, "chunk " + chunk + " has " + tasks + " tasks");
            assertTrue(bytecode <= Chunker.MAX_BYTECODE, "chunk " + chunk + " has " + bytecode + " bytes of bytecode");
        }
        return chunk + 1;
    }

    @Test
    void aLongSequenceOverTwoTensorsIsCutByItsBytecodeEstimate() {
        Tensor acc = be.allocate(10), x = be.allocate(10);
        List<Op> ops = new ArrayList<>();
        for (int i = 0; i < 3 * Chunker.MAX_TASKS + 1; i++) {
            ops.add(PointwiseCalls.add(acc, x, 10));
        }
        int[] chunkOf = chunk(ops, ops.size());
        // estimated bytecode: 50 per launch, 40 per array the op may bring in (its two tensors in a chunk's first op,
        // then only its scratch and packed values: 2); 250 + 17 * 170 = 3140 fits 3200, one op more does not
        assertEquals(17, lastOpOf(chunkOf, 0));
        assertEquals(9, assertWithinLimits(ops, chunkOf), "145 calls of 18 a graph");
    }

    @Test
    void callsOverManyFreshTensorsAreCutByBytecodeBeforeTheTaskLimit() {
        List<Op> ops = new ArrayList<>();
        for (int i = 0; i < Chunker.MAX_TASKS; i++) {
            ops.add(PointwiseCalls.swigluForward(be.allocate(4), be.allocate(4), be.allocate(4), 1, 4));
        }
        int[] chunkOf = chunk(ops, ops.size());
        assertTrue(assertWithinLimits(ops, chunkOf) > 1, "three fresh arrays a call do not fit one graph");
    }

    @Test
    void theSecondPartOfAPairStartsAChunkOfItsOwn() {
        Tensor acc = be.allocate(10), x = be.allocate(10);
        List<Op> ops = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            ops.add(PointwiseCalls.add(acc, x, 10));
        }
        int[] chunkOf = chunk(ops, 4);
        assertEquals(0, chunkOf[3]);
        assertEquals(1, chunkOf[4]);
        assertEquals(2, assertWithinLimits(ops, chunkOf));
    }

    private static int lastOpOf(int[] chunkOf, int chunk) {
        int last = -1;
        for (int i = 0; i < chunkOf.length; i++) {
            last = chunkOf[i] == chunk ? i : last;
        }
        return last;
    }
}
