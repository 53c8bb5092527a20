package org.pairwise.accel.tornado;

import java.util.ArrayList;
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
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray;

/**
 * A recorded sequence built as task graphs in ONE execution plan, with what each graph moves.
 *
 * <p>Why one plan of several graphs: TornadoVM 5.2 keeps device buffers per task graph, shares them only between graphs
 * of one plan (a graph's {@code consumeFromDevice} takes the buffers of the graph executed just before it, see
 * {@code TornadoTaskGraph.updatePersistedObjectState}), and a graph has fixed limits ({@link Chunker}). So the sequence
 * is cut into chunks run in order; every array live across a cut is persisted by one chunk and consumed by the next,
 * even by chunks that do not use it, and never leaves the device. Resident slots ({@link SlotLayout#resident}) are sent
 * by load graphs at the head of the plan, each at most {@link Chunker#LOAD_SLOTS} transfers, and carried to the last
 * chunk, from which the next run's first chunk takes them.
 *
 * <p>The graphs are built over the sequence's own slot arrays, never over the caller's tensors, because a built graph
 * cannot be re-bound to other arrays (TornadoVM 5.2 has no public way to replace a task argument). Frozen arrays are
 * bound by identity and go down on the first execution only.
 */
final class Plan {
    private static final AtomicLong SEQ = new AtomicLong();

    final TornadoExecutionPlan plan;
    final FloatArray[] slots;
    /** Per part: the packed per-call ints and floats (null where no call of the part has any). */
    final IntArray[] ints = new IntArray[2];
    final FloatArray[] floats = new FloatArray[2];
    /** Per op: its result array (null where it has none). */
    final FloatArray[] results;
    final int loads, chunks;
    /** Chunks [partChunk[p], partChunk[p + 1]) make part p. */
    final int[] partChunk;
    /** Per part and slot: the last chunk of the part that uses the slot (where its value is fetched), or -1. */
    final int[][] fetchChunk;
    /** Per chunk: copies and bytes sent every run, fetched every run, and sent on its first run only. */
    final int[] inN, outN, firstN;
    final long[] inB, outB, firstB;
    /** Copies and bytes the load graphs send. */
    int loadIn;
    long loadInBytes;
    /** Bytes of device memory the plan holds (its slots, its own copy of the frozen arrays, its per-call values). */
    final long bytes;

    private final TaskGraph[] load;
    private final TaskGraph[] g;
    private final String[] names;

    Plan(List<Op> ops, SlotLayout l, Binding b) {
        int n = l.slots, m = l.ops;
        int[] chunkOf = Chunker.chunk(ops, l);
        chunks = chunkOf[m - 1] + 1;
        partChunk = new int[] {0, l.parts == 2 ? chunkOf[l.split] : chunks, chunks};
        slots = new FloatArray[n];
        for (int s = 0; s < n; s++) {
            slots[s] = new FloatArray(Math.toIntExact(Math.max(1, l.size[s])));
        }
        for (int p = 0; p < 2; p++) {
            ints[p] = l.firstInts[p] < 0 ? null : new IntArray(Math.max(1, l.intCount[p]));
            floats[p] = l.firstFloats[p] < 0 ? null : new FloatArray(Math.max(1, l.floatCount[p]));
        }
        results = new FloatArray[m];
        inN = new int[chunks];
        outN = new int[chunks];
        firstN = new int[chunks];
        inB = new long[chunks];
        outB = new long[chunks];
        firstB = new long[chunks];
        fetchChunk = new int[2][n];
        for (int[] f : fetchChunk) {
            java.util.Arrays.fill(f, -1);
        }
        for (int i = 0; i < m; i++) {
            for (Op.Access a : ops.get(i).accesses) {
                fetchChunk[l.part(i)][b.slot(a.t())] = chunkOf[i];
            }
        }
        List<FloatArray> resident = new ArrayList<>();
        for (int s = 0; s < n; s++) {
            if (l.resident(s)) {
                resident.add(slots[s]);
            }
        }
        long id = SEQ.incrementAndGet();
        loads = (resident.size() + Chunker.LOAD_SLOTS - 1) / Chunker.LOAD_SLOTS;
        load = new TaskGraph[loads];
        buildLoads(id, resident);
        g = new TaskGraph[chunks];
        names = new String[chunks];
        for (int c = 0; c < chunks; c++) {
            names[c] = "seq" + id + "c" + c;
            g[c] = new TaskGraph(names[c]);
        }
        if (loads > 0) {
            g[0].consumeFromDevice(load[loads - 1].getTaskGraphName(), resident.toArray());
        }
        List<Set<Object>> keep = carry(l, chunkOf);
        sendInputs(ops, l, b, chunkOf);
        addTasks(ops, l, b, chunkOf);
        keep.getLast().addAll(resident);
        for (int c = 0; c < chunks; c++) {
            if (!keep.get(c).isEmpty()) {
                g[c].persistOnDevice(keep.get(c).toArray());
            }
        }
        ImmutableTaskGraph[] snapshots = new ImmutableTaskGraph[loads + chunks];
        for (int i = 0; i < loads; i++) {
            snapshots[i] = load[i].snapshot();
        }
        for (int c = 0; c < chunks; c++) {
            snapshots[loads + c] = g[c].snapshot();
        }
        plan = new TornadoExecutionPlan(snapshots);
        long held = 0;
        for (FloatArray a : slots) {
            held += a.getNumBytesOfSegment();
        }
        for (TornadoNativeArray c : l.constants.keySet()) {
            held += c.getNumBytesOfSegment();
        }
        for (int p = 0; p < 2; p++) {
            held += (ints[p] == null ? 0 : ints[p].getNumBytesOfSegment())
                    + (floats[p] == null ? 0 : floats[p].getNumBytesOfSegment());
        }
        bytes = held;
    }

    /** Load graphs: each sends its share of the resident slots and carries the ones before it. */
    private void buildLoads(long id, List<FloatArray> resident) {
        for (int i = 0; i < loads; i++) {
            load[i] = new TaskGraph("seq" + id + "l" + i);
            int from = i * Chunker.LOAD_SLOTS, to = Math.min(resident.size(), from + Chunker.LOAD_SLOTS);
            List<FloatArray> mine = resident.subList(from, to);
            if (i > 0) {
                load[i].consumeFromDevice(load[i - 1].getTaskGraphName(), resident.subList(0, from).toArray());
            }
            for (FloatArray a : mine) {
                load[i].transferToDevice(DataTransferMode.EVERY_EXECUTION, a);
                loadIn++;
                loadInBytes += a.getNumBytesOfSegment();
            }
            // a graph needs a task; the other arrays it sends go down unused and stay (persisted)
            load[i].task("touch", PointwiseKernels::touch, mine.getFirst())
                    .persistOnDevice(resident.subList(0, to).toArray());
        }
    }

    /**
     * What each chunk keeps on the device after it runs: what it wrote (fetched from there when the host asks) and what
     * crosses to the next chunk (consumed there): slots, frozen arrays and packed values live before and after a cut.
     */
    private List<Set<Object>> carry(SlotLayout l, int[] chunkOf) {
        List<Set<Object>> keep = new ArrayList<>();
        for (int c = 0; c < chunks; c++) {
            keep.add(Collections.newSetFromMap(new IdentityHashMap<>()));
        }
        for (int s = 0; s < l.slots; s++) {
            for (int p = 0; p < 2; p++) {
                if (l.written[s] && fetchChunk[p][s] >= 0) {
                    keep.get(fetchChunk[p][s]).add(slots[s]);
                }
            }
        }
        for (int c = 1; c < chunks; c++) {
            List<Object> across = new ArrayList<>();
            for (int s = 0; s < l.slots; s++) {
                if ((l.resident(s) || chunkOf[l.firstOp[s]] < c) && chunkOf[l.lastOp[s]] >= c) {
                    across.add(slots[s]);
                }
            }
            for (Map.Entry<TornadoNativeArray, int[]> e : l.constants.entrySet()) {
                if (chunkOf[e.getValue()[0]] < c && chunkOf[e.getValue()[1]] >= c) {
                    across.add(e.getKey());
                }
            }
            for (int p = 0; p < 2; p++) {
                if (ints[p] != null && chunkOf[l.firstInts[p]] < c && chunkOf[l.lastInts[p]] >= c) {
                    across.add(ints[p]);
                }
                if (floats[p] != null && chunkOf[l.firstFloats[p]] < c && chunkOf[l.lastFloats[p]] >= c) {
                    across.add(floats[p]);
                }
            }
            if (!across.isEmpty()) {
                keep.get(c - 1).addAll(across);
                g[c].consumeFromDevice(names[c - 1], across.toArray());
            }
        }
        return keep;
    }

    /** Arrays that enter in a chunk: frozen ones on the first run, host values (inputs, packed values) every run. */
    private void sendInputs(List<Op> ops, SlotLayout l, Binding b, int[] chunkOf) {
        for (Map.Entry<TornadoNativeArray, int[]> e : l.constants.entrySet()) {
            int c = chunkOf[e.getValue()[0]];
            g[c].transferToDevice(DataTransferMode.FIRST_EXECUTION, e.getKey());
            firstN[c]++;
            firstB[c] += e.getKey().getNumBytesOfSegment();
        }
        for (int s = 0; s < l.slots; s++) {
            if (l.input[s] && !l.resident(s)) {
                int c = chunkOf[l.firstOp[s]];
                everyRun(c, slots[s]);
                // a streamed-in array whose first task only writes it is not copied in (TornadoVM allocates
                // write-only arguments): a one-element read-write task first makes it stream in
                if (!SlotLayout.reads(ops.get(l.firstOp[s]), b.tensor(s))) {
                    g[c].task("touch" + s, PointwiseKernels::touch, slots[s]);
                }
            }
        }
        for (int p = 0; p < 2; p++) {
            if (ints[p] != null) {
                everyRun(chunkOf[l.firstInts[p]], ints[p]);
            }
            if (floats[p] != null) {
                everyRun(chunkOf[l.firstFloats[p]], floats[p]);
            }
        }
    }

    private void everyRun(int c, TornadoNativeArray a) {
        g[c].transferToDevice(DataTransferMode.EVERY_EXECUTION, a);
        inN[c]++;
        inB[c] += a.getNumBytesOfSegment();
    }

    /** Each op's tasks in its chunk, over the slots; an op's result comes back after every run. */
    private void addTasks(List<Op> ops, SlotLayout l, Binding b, int[] chunkOf) {
        for (int i = 0; i < l.ops; i++) {
            TaskGraph tg = g[chunkOf[i]];
            int k = i, c = chunkOf[i], p = l.part(i);
            ops.get(i).tasks.add(tg, "k" + i, new Op.Args() {
                @Override
                public FloatArray of(Tensor t) {
                    return slots[b.slot(TornadoTensor.base(t))];
                }

                @Override
                public FloatArray of(TornadoWeight w) {
                    return w.live ? of(w.tensor) : w.data;
                }

                @Override
                public int at(Tensor t) {
                    TornadoTensor base = TornadoTensor.base(t);
                    return Math.toIntExact(TornadoTensor.offset(t) - b.lo(b.slot(base)));
                }

                @Override
                public int at(TornadoWeight w) {
                    return w.live ? at(w.tensor) : 0;
                }

                @Override
                public IntArray ints() {
                    return ints[p];
                }

                @Override
                public int intsAt() {
                    return l.intAt[k];
                }

                @Override
                public FloatArray floats() {
                    return floats[p];
                }

                @Override
                public int floatsAt() {
                    return l.floatAt[k];
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
                    return results[k] = new FloatArray(Math.max(1, size));
                }
            });
            if (results[i] != null) {
                tg.transferToHost(DataTransferMode.EVERY_EXECUTION, results[i]);
                outN[c]++;
                outB[c] += results[i].getNumBytesOfSegment();
            }
        }
    }
}
