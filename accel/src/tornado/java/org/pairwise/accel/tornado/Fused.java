package org.pairwise.accel.tornado;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.pairwise.accel.Tensor;
import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.TornadoExecutionResult;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * A recorded call sequence compiled once, as task graphs in ONE execution plan, and executed many times.
 *
 * <p>Why one plan of several graphs: TornadoVM 5.2 keeps device buffers per task graph, shares them only between graphs
 * of one plan (a graph's {@code consumeFromDevice} takes the buffers of the graph executed just before it, see
 * {@code TornadoTaskGraph.updatePersistedObjectState}), and a graph holds at most 1024 nodes
 * ({@code TornadoGraph.resize} is unimplemented). So a long sequence is cut into chunks run in order; every array live
 * across a cut is persisted by one chunk and consumed by the next, even by chunks that do not use it, and never leaves
 * the device.
 *
 * <p>Slots: the graphs are built over the sequence's own arrays (one slot per distinct tensor, in order of first use),
 * not over the caller's tensors, because a built graph cannot be re-bound to other arrays (TornadoVM 5.2 has no
 * public way to replace a task argument: only the deprecated, internal
 * {@code TornadoExecutionContext.replaceObjectState}).
 * So the same compiled sequence serves a fresh KV cache or a new upload of the same shape: the host copies a tensor
 * into its slot (host memory only) before the slot goes down, and a slot's device value is copied back into the tensor
 * only when the host asks for it. Frozen weights and rope tables are bound by identity and go down once.
 */
final class Fused implements AutoCloseable {
    /**
     * Most tasks per graph, and estimates (see {@link #chunk}) kept under TornadoVM's fixed per-graph limits with a
     * margin: 1024 nodes ({@code TornadoGraph}) and 4096 bytes of TornadoVM bytecode
     * ({@code TornadoVMBytecodeBuilder.MAX_TORNADO_VM_BYTECODE_SIZE}, a launch is 33 bytes, a transfer 25).
     */
    static final int MAX_TASKS = 48, MAX_NODES = 800, MAX_BYTECODE = 3200, LOAD_SLOTS = 80;

    private static final AtomicLong SEQ = new AtomicLong();

    /** One array per distinct tensor of the sequence, sized like it. */
    final FloatArray[] slots;
    /** Whether the slot's value comes from the host before the sequence runs (read, or partly written, first). */
    final boolean[] input;
    final boolean[] written;
    /** The tensor whose latest value sits in the slot on the device, or null; kept by {@link Residency}. */
    final TornadoTensor[] owner;
    /**
     * Every call's per-call ints and floats, packed into one array each per part (call i's start at intAt[i],
     * floatAt[i]), so a run sends two small arrays, not one per call. Null where no call of the part has any.
     */
    private final IntArray[] ints;
    private final FloatArray[] floats;
    private final int[] intAt, floatAt;
    /**
     * Parts: a sequence can be compiled together with the one that follows it after a host step (a forward, then the
     * backward once the host has computed the loss): part 0 is ops [0, split), part 1 the rest, each run on its own,
     * and what part 1 takes from part 0 stays on the device between them (the first chunk of part 1 consumes it from
     * the last chunk of part 0, executed just before it in this plan). One part where split == the op count.
     */
    final int split, parts;
    /** Per slot: the part that uses it first and last; per part and slot: whether the part uses or writes it. */
    final int[] firstPart, lastPart;
    final boolean[][] usedIn, writtenIn;
    private final int[] partChunk;
    private final int[] inN, outN, firstN;
    private final long[] inB, outB, firstB;
    private final boolean[] chunkRan;
    /** Per op: its result array (null where it has none). */
    private final FloatArray[] results;
    /** Per part and slot: the last chunk of the part that uses the slot (where its value is fetched), or -1. */
    private final int[][] fetchChunk;
    private final TornadoExecutionPlan plan;
    private final int chunks;
    /**
     * Input slots that stay on the device from one run to the next (parameters and moments the sequence writes back,
     * or an adapter it only reads): load graphs (the plan's first {@code loads} graphs) send them down only when some
     * tensor's latest value is not in its slot; otherwise the first chunk takes them from the last chunk of the
     * previous run (the graph executed just before it). Null where there are none.
     */
    final boolean[] resident;
    private final int loads;
    private int loadIn;
    private long loadInBytes;
    /** Bytes of device memory this compiled sequence holds (its slots, its own copy of the frozen arrays, values). */
    final long bytes;
    private final Transfers transfers;
    private TornadoExecutionResult last;
    private boolean executed;

    /** Builds the graphs for ops; slotOf maps each op's tensors to slot numbers (as {@link Residency#key} did). */
    Fused(List<Op> ops, int split, Map<TornadoTensor, Integer> slotOf, boolean[] resident, Transfers transfers) {
        this.transfers = transfers;
        this.resident = resident;
        int n = slotOf.size(), m = ops.size();
        this.split = split;
        this.parts = split < m ? 2 : 1;
        firstPart = new int[n];
        lastPart = new int[n];
        usedIn = new boolean[2][n];
        writtenIn = new boolean[2][n];
        slots = new FloatArray[n];
        input = new boolean[n];
        written = new boolean[n];
        owner = new TornadoTensor[n];
        results = new FloatArray[m];
        intAt = new int[m];
        floatAt = new int[m];
        ints = new IntArray[2];
        floats = new FloatArray[2];
        int[] nInts = new int[2], nFloats = new int[2], firstInts = {-1, -1}, lastInts = {-1, -1},
                firstFloats = {-1, -1}, lastFloats = {-1, -1};
        for (int i = 0; i < m; i++) {
            Op op = ops.get(i);
            int p = i < split ? 0 : 1;
            intAt[i] = nInts[p];
            floatAt[i] = nFloats[p];
            if (op.ints != null) {
                nInts[p] += op.ints.length;
                firstInts[p] = firstInts[p] < 0 ? i : firstInts[p];
                lastInts[p] = i;
            }
            if (op.floats != null) {
                nFloats[p] += op.floats.length;
                firstFloats[p] = firstFloats[p] < 0 ? i : firstFloats[p];
                lastFloats[p] = i;
            }
        }
        for (int p = 0; p < 2; p++) {
            ints[p] = firstInts[p] < 0 ? null : new IntArray(Math.max(1, nInts[p]));
            floats[p] = firstFloats[p] < 0 ? null : new FloatArray(Math.max(1, nFloats[p]));
        }
        int[] firstOp = new int[n], lastOp = new int[n];
        Arrays.fill(firstOp, -1);
        Map<FloatArray, int[]> constRange = new IdentityHashMap<>();
        for (int i = 0; i < m; i++) {
            Op op = ops.get(i);
            for (Op.Access a : op.accesses) {
                int s = slotOf.get(a.t());
                if (firstOp[s] < 0) {
                    firstOp[s] = i;
                    slots[s] = new FloatArray(Math.toIntExact(Math.max(1, a.t().size())));
                    // the first call that uses it decides: anything but a whole overwrite needs the host's value
                    input[s] = !wholeWriteOnly(op, a.t());
                }
                lastOp[s] = i;
                written[s] |= a.write();
                usedIn[i < split ? 0 : 1][s] = true;
                writtenIn[i < split ? 0 : 1][s] |= a.write();
            }
            for (FloatArray c : op.constants) {
                constRange.computeIfAbsent(c, k -> new int[] {-1, -1});
                int[] r = constRange.get(c);
                if (r[0] < 0) {
                    r[0] = i;
                }
                r[1] = i;
            }
        }
        boolean[] res = resident == null ? new boolean[n] : resident;
        List<FloatArray> residentSlots = new ArrayList<>();
        for (int s = 0; s < n; s++) {
            if (res[s]) {
                lastOp[s] = m - 1; // carried to the last chunk, where the next run's first chunk takes it
                residentSlots.add(slots[s]);
            }
        }
        for (int s = 0; s < n; s++) {
            firstPart[s] = firstOp[s] < split ? 0 : 1;
            lastPart[s] = lastOp[s] < split ? 0 : 1;
        }
        int[] chunkOf = chunk(ops, split, firstOp, lastOp);
        chunks = chunkOf[m - 1] + 1;
        partChunk = new int[] {0, split < m ? chunkOf[split] : chunks, chunks};
        inN = new int[chunks];
        outN = new int[chunks];
        firstN = new int[chunks];
        inB = new long[chunks];
        outB = new long[chunks];
        firstB = new long[chunks];
        chunkRan = new boolean[chunks];
        fetchChunk = new int[2][n];
        Arrays.fill(fetchChunk[0], -1);
        Arrays.fill(fetchChunk[1], -1);
        for (int i = 0; i < m; i++) {
            for (Op.Access a : ops.get(i).accesses) {
                fetchChunk[i < split ? 0 : 1][slotOf.get(a.t())] = chunkOf[i];
            }
        }
        // what each chunk keeps on the device after it runs (persists): what crosses to the next chunk, what it wrote
        // (fetched from there when the host asks), and the resident slots in the last chunk (for the next run)
        List<Set<Object>> keep = new ArrayList<>();
        for (int c = 0; c < chunks; c++) {
            keep.add(Collections.newSetFromMap(new IdentityHashMap<>()));
        }
        for (int s = 0; s < n; s++) {
            for (int p = 0; p < 2; p++) {
                if (written[s] && fetchChunk[p][s] >= 0) {
                    keep.get(fetchChunk[p][s]).add(slots[s]);
                }
            }
        }
        long held = 0;
        for (FloatArray a : slots) {
            held += a.getNumBytesOfSegment();
        }
        for (FloatArray c : constRange.keySet()) {
            held += c.getNumBytesOfSegment();
        }
        for (int p = 0; p < 2; p++) {
            held += (ints[p] == null ? 0 : ints[p].getNumBytesOfSegment())
                    + (floats[p] == null ? 0 : floats[p].getNumBytesOfSegment());
        }
        bytes = held;
        long id = SEQ.incrementAndGet();
        // load graphs, each at most LOAD_SLOTS transfers (the bytecode limit), each carrying the ones before it
        loads = (residentSlots.size() + LOAD_SLOTS - 1) / LOAD_SLOTS;
        TaskGraph[] load = new TaskGraph[loads];
        for (int l = 0; l < loads; l++) {
            load[l] = new TaskGraph("seq" + id + "l" + l);
            int from = l * LOAD_SLOTS, to = Math.min(residentSlots.size(), from + LOAD_SLOTS);
            List<FloatArray> mine = residentSlots.subList(from, to);
            if (l > 0) {
                load[l].consumeFromDevice(load[l - 1].getTaskGraphName(), residentSlots.subList(0, from).toArray());
            }
            for (FloatArray a : mine) {
                load[l].transferToDevice(DataTransferMode.EVERY_EXECUTION, a);
                loadIn++;
                loadInBytes += a.getNumBytesOfSegment();
            }
            // a graph needs a task; the other arrays it sends go down unused and stay (persisted)
            load[l].task("touch", PointwiseKernels::touch, mine.getFirst())
                    .persistOnDevice(residentSlots.subList(0, to).toArray());
        }
        TaskGraph[] g = new TaskGraph[chunks];
        String[] names = new String[chunks];
        for (int c = 0; c < chunks; c++) {
            names[c] = "seq" + id + "c" + c;
            g[c] = new TaskGraph(names[c]);
        }
        if (loads > 0) {
            g[0].consumeFromDevice(load[loads - 1].getTaskGraphName(), residentSlots.toArray());
        }
        // what crosses each cut: slots and constants live before and after it
        for (int c = 1; c < chunks; c++) {
            List<Object> across = new ArrayList<>();
            for (int s = 0; s < n; s++) {
                if ((res[s] || chunkOf[firstOp[s]] < c) && chunkOf[lastOp[s]] >= c) {
                    across.add(slots[s]);
                }
            }
            for (Map.Entry<FloatArray, int[]> e : constRange.entrySet()) {
                if (chunkOf[e.getValue()[0]] < c && chunkOf[e.getValue()[1]] >= c) {
                    across.add(e.getKey());
                }
            }
            for (int p = 0; p < 2; p++) {
                if (ints[p] != null && chunkOf[firstInts[p]] < c && chunkOf[lastInts[p]] >= c) {
                    across.add(ints[p]);
                }
                if (floats[p] != null && chunkOf[firstFloats[p]] < c && chunkOf[lastFloats[p]] >= c) {
                    across.add(floats[p]);
                }
            }
            if (!across.isEmpty()) {
                keep.get(c - 1).addAll(across);
                g[c].consumeFromDevice(names[c - 1], across.toArray());
            }
        }
        // arrays that enter in a chunk: frozen ones once, host values every run
        for (Map.Entry<FloatArray, int[]> e : constRange.entrySet()) {
            int c = chunkOf[e.getValue()[0]];
            g[c].transferToDevice(DataTransferMode.FIRST_EXECUTION, e.getKey());
            firstN[c]++;
            firstB[c] += e.getKey().getNumBytesOfSegment();
        }
        for (int s = 0; s < n; s++) {
            TaskGraph first = g[chunkOf[firstOp[s]]];
            if (input[s] && !res[s]) {
                everyIn(chunkOf[firstOp[s]], first, slots[s]);
                if (!readFirst(ops.get(firstOp[s]), ops.get(firstOp[s]).accesses, slotOf, s)) {
                    first.task("touch" + s, PointwiseKernels::touch, slots[s]);
                }
            }
        }
        for (int p = 0; p < 2; p++) {
            if (ints[p] != null) {
                everyIn(chunkOf[firstInts[p]], g[chunkOf[firstInts[p]]], ints[p]);
            }
            if (floats[p] != null) {
                everyIn(chunkOf[firstFloats[p]], g[chunkOf[firstFloats[p]]], floats[p]);
            }
        }
        for (int i = 0; i < m; i++) {
            TaskGraph tg = g[chunkOf[i]];
            int k = i, c = chunkOf[i], p = i < split ? 0 : 1;
            ops.get(i).tasks.add(tg, "k" + i, new Op.Args() {
                @Override
                public FloatArray of(Tensor t) {
                    return slots[slotOf.get(TornadoTensor.of(t))];
                }

                @Override
                public FloatArray of(TornadoWeight w) {
                    return w.live ? of(w.tensor) : w.data;
                }

                @Override
                public IntArray ints() {
                    return ints[p];
                }

                @Override
                public int intsAt() {
                    return intAt[k];
                }

                @Override
                public FloatArray floats() {
                    return floats[p];
                }

                @Override
                public int floatsAt() {
                    return floatAt[k];
                }

                @Override
                public FloatArray scratch(long size) {
                    FloatArray a = new FloatArray(Math.toIntExact(Math.max(1, size)));
                    tg.transferToDevice(DataTransferMode.FIRST_EXECUTION, a);
                    firstN[c]++;
                    firstB[c] += a.getNumBytesOfSegment();
                    return a;
                }

                @Override
                public FloatArray result(int size) {
                    FloatArray a = results[k] = new FloatArray(Math.max(1, size));
                    return a;
                }
            });
            if (results[i] != null) {
                tg.transferToHost(DataTransferMode.EVERY_EXECUTION, results[i]);
                outN[c]++;
                outB[c] += results[i].getNumBytesOfSegment();
            }
        }
        keep.getLast().addAll(residentSlots);
        for (int c = 0; c < chunks; c++) {
            if (!keep.get(c).isEmpty()) {
                g[c].persistOnDevice(keep.get(c).toArray());
            }
        }
        ImmutableTaskGraph[] snapshots = new ImmutableTaskGraph[loads + chunks];
        for (int l = 0; l < loads; l++) {
            snapshots[l] = load[l].snapshot();
        }
        for (int c = 0; c < chunks; c++) {
            snapshots[loads + c] = g[c].snapshot();
        }
        plan = new TornadoExecutionPlan(snapshots);
    }

    int chunks() {
        return chunks;
    }

    /**
     * Runs the chunks of one part in order, with its ops' per-call values (partOps: the part's ops); fills each op's
     * result. With load (part 0 only), the load graphs run first and send the resident slots down (always on a first
     * run: before it they are nowhere on the device).
     */
    void execute(int part, List<Op> partOps, boolean load) {
        int base = part == 0 ? 0 : split;
        for (int j = 0; j < partOps.size(); j++) {
            Op op = partOps.get(j);
            if (op.ints != null) {
                MemorySegment.copy(op.ints, 0, ints[part].getSegment(), ValueLayout.JAVA_INT, 4L * intAt[base + j],
                        op.ints.length);
            }
            if (op.floats != null) {
                MemorySegment.copy(op.floats, 0, floats[part].getSegment(), ValueLayout.JAVA_FLOAT,
                        4L * floatAt[base + j], op.floats.length);
            }
        }
        load = part == 0 && (load || !executed);
        if (chunks == 1 && loads == 0) {
            last = plan.execute();
        } else {
            for (int l = 0; load && l < loads; l++) {
                plan.withGraph(l).execute();
            }
            for (int c = partChunk[part]; c < partChunk[part + 1]; c++) {
                last = plan.withGraph(loads + c).execute();
            }
        }
        executed = true;
        if (load && loads > 0) {
            transfers.add(loadIn, loadInBytes, 0, 0);
            transfers.executions.addAndGet(loads);
        }
        for (int c = partChunk[part]; c < partChunk[part + 1]; c++) {
            if (!chunkRan[c]) {
                chunkRan[c] = true;
                transfers.add(firstN[c], firstB[c], 0, 0);
            }
            transfers.add(inN[c], inB[c], outN[c], outB[c]);
            transfers.executions.incrementAndGet();
        }
        for (int j = 0; j < partOps.size(); j++) {
            if (results[base + j] != null) {
                partOps.get(j).result = results[base + j].toHeapArray();
            }
        }
    }

    /**
     * Device to host of a slot's value as the given part left it (from the last chunk of that part that used it: a
     * chunk executed in the same run), then into the tensor.
     */
    void fetch(int slot, int part, TornadoTensor into) {
        if (loads + chunks > 1) {
            plan.withGraph(loads + fetchChunk[part][slot]);
        }
        last.transferToHost(slots[slot]);
        transfers.add(0, 0, 1, slots[slot].getNumBytesOfSegment());
        MemorySegment.copy(slots[slot].getSegment(), 0, into.data.getSegment(), 0, 4 * into.size());
    }

    /** Host to slot before a run (host memory only; the slot goes down with the run). */
    void load(int slot, TornadoTensor from) {
        MemorySegment.copy(from.data.getSegment(), 0, slots[slot].getSegment(), 0, 4 * from.size());
    }

    @Override
    public void close() {
        try {
            plan.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing a TornadoVM plan", e);
        }
    }

    private void everyIn(int c, TaskGraph g, uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray a) {
        g.transferToDevice(DataTransferMode.EVERY_EXECUTION, a);
        inN[c]++;
        inB[c] += a.getNumBytesOfSegment();
    }

    /** Whether op uses t only through writes, one of them whole (so the op needs none of t's old value). */
    static boolean wholeWriteOnly(Op op, TornadoTensor t) {
        boolean whole = false;
        for (Op.Access a : op.accesses) {
            if (a.t() == t) {
                if (a.read()) {
                    return false;
                }
                whole |= a.whole();
            }
        }
        return whole;
    }

    /** Whether the op's first access to slot s reads it (so TornadoVM streams it in before the op's task runs). */
    private static boolean readFirst(Op op, List<Op.Access> accesses, Map<TornadoTensor, Integer> slotOf, int s) {
        for (Op.Access a : accesses) {
            if (slotOf.get(a.t()) == s && a.read()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Cuts ops into chunks (chunk of each op, in order). The estimates follow TornadoGraphBuilder and
     * TornadoVMBytecodeBuilder: per task a launch and its dependencies; per array first used in the graph an
     * allocation, a transfer or on-device mark, and a deallocation or persist mark; an array only carried through a
     * graph costs one object node and no bytecode.
     */
    private static int[] chunk(List<Op> ops, int split, int[] firstOp, int[] lastOp) {
        int[] chunkOf = new int[ops.size()];
        int chunk = 0, tasks = 0, nodes = 0, bytecode = 0;
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            List<Object> arrays = new ArrayList<>(op.constants);
            op.accesses.forEach(a -> arrays.add(a.t()));
            int[] cost = cost(op, arrays, seen);
            if (tasks > 0 && (i == split || tasks + op.taskCount > MAX_TASKS || bytecode + cost[1] > MAX_BYTECODE
                    || nodes + cost[0] > MAX_NODES)) {
                chunk++;
                tasks = 0;
                bytecode = 0;
                seen.clear();
                nodes = liveAcross(i, firstOp, lastOp); // carried arrays: one object node each
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
    private static int[] cost(Op op, List<Object> arrays, Set<Object> seen) {
        int fresh = op.taskCount + 2; // scratch and the packed per-call values, at most
        for (Object a : arrays) {
            fresh += seen.contains(a) ? 0 : 1;
        }
        return new int[] {3 * op.taskCount + 2 * arrays.size() + op.shape.size() + 3 * fresh,
                50 * op.taskCount + 40 * fresh};
    }

    private static int liveAcross(int i, int[] firstOp, int[] lastOp) {
        int live = 0;
        for (int s = 0; s < firstOp.length; s++) {
            if (firstOp[s] >= 0 && firstOp[s] < i && lastOp[s] >= i) {
                live++;
            }
        }
        return live;
    }
}
