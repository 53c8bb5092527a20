package org.pairwise.accel.tornado;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Cuts a recorded sequence into chunks, one task graph each, under TornadoVM 5.2's fixed per-graph limits: 1024 nodes
 * ({@code TornadoGraph}, whose {@code resize} is unimplemented) and 4096 bytes of TornadoVM bytecode
 * ({@code TornadoVMBytecodeBuilder.MAX_TORNADO_VM_BYTECODE_SIZE}; a launch is 33 bytes, a transfer 25). Overflowing
 * either is a bailout ("Buffer Overflow exception"), so the estimates below keep a margin. A chunk also ends where the
 * sequence's second part starts ({@link SlotLayout}), since the two parts run apart.
 */
final class Chunker {
    /** Most tasks per graph; node and bytecode budgets below the limits; transfers per load graph. */
    static final int MAX_TASKS = 48, MAX_NODES = 800, MAX_BYTECODE = 3200, LOAD_SLOTS = 80;

    private Chunker() {}

    /**
     * The chunk of each op, in order. The estimates follow TornadoGraphBuilder and TornadoVMBytecodeBuilder: per task a
     * launch and its dependencies; per array first used in the graph an allocation, a transfer or on-device mark, and
     * a deallocation or persist mark; an array only carried through a graph costs one object node and no bytecode.
     */
    static int[] chunk(List<Op> ops, SlotLayout layout) {
        int[] chunkOf = new int[ops.size()];
        int chunk = 0, tasks = 0, nodes = 0, bytecode = 0;
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            List<Object> arrays = new ArrayList<>(op.constants);
            op.accesses.forEach(a -> arrays.add(a.t()));
            int[] cost = cost(op, arrays, seen);
            if (tasks > 0 && (i == layout.split || tasks + op.taskCount > MAX_TASKS
                    || bytecode + cost[1] > MAX_BYTECODE || nodes + cost[0] > MAX_NODES)) {
                chunk++;
                tasks = 0;
                bytecode = 0;
                seen.clear();
                nodes = liveAcross(i, layout); // carried arrays: one object node each
                cost = cost(op, arrays, seen);
            }
            seen.addAll(arrays);
            chunkOf[i] = chunk;
            tasks += op.taskCount;
            nodes += cost[0];
            bytecode += cost[1];
        }
        return chunkOf;
    }

    /** Estimated {nodes, bytecode bytes} of an op in a graph that already uses the arrays in seen. */
    static int[] cost(Op op, List<Object> arrays, Set<Object> seen) {
        int fresh = op.taskCount + 2; // scratch and the packed per-call values, at most
        for (Object a : arrays) {
            fresh += seen.contains(a) ? 0 : 1;
        }
        return new int[] {3 * op.taskCount + 2 * arrays.size() + op.shape.size() + 3 * fresh,
                50 * op.taskCount + 40 * fresh};
    }

    /** Slots used before op i and after it: what a cut before op i carries. */
    private static int liveAcross(int i, SlotLayout layout) {
        int live = 0;
        for (int s = 0; s < layout.slots; s++) {
            if (layout.firstOp[s] >= 0 && layout.firstOp[s] < i && layout.lastOp[s] >= i) {
                live++;
            }
        }
        return live;
    }
}
