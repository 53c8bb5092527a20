package org.pairwise.accel.tornado;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import uk.ac.manchester.tornado.api.TornadoExecutionResult;

/**
 * A recorded call sequence compiled once ({@link SlotLayout} worked out, {@link Plan} built) and executed many times,
 * one part at a time, over the tensors the caller binds to its slots.
 *
 * <p>Slots stand in for the caller's tensors (so the same compiled sequence serves a fresh KV cache or a new upload of
 * the same shape): the host copies a tensor's range into its slot (host memory only) before the slot goes down, and a
 * slot's device value is copied back into that range of the tensor only when the host asks for it ({@link #fetch}).
 */
final class Fused implements AutoCloseable {
    final SlotLayout layout;
    private final Plan plan;
    /** The tensor range whose latest value sits in each slot on the device, or null; kept by {@link Residency}. */
    final Binding.Bound[] owner;
    /**
     * Input slots that stay on the device from one run to the next (parameters and moments the sequence writes back,
     * or an adapter it only reads): the load graphs send them down only when some tensor's latest value is not in its
     * slot; otherwise the first chunk takes them from the last chunk of the previous run. Null where there are none.
     */
    final boolean[] resident;
    /** Device bytes this compiled sequence holds. */
    final long bytes;
    private final Transfers transfers;
    private final boolean[] chunkRan;
    private TornadoExecutionResult last;
    private boolean executed;

    /** Compiles ops (split after the first part), bound by b; resident may be null. */
    Fused(List<Op> ops, int split, Binding b, boolean[] resident, Transfers transfers) {
        this.layout = new SlotLayout(ops, split, b, resident);
        this.plan = new Plan(ops, layout, b);
        this.resident = resident;
        this.owner = new Binding.Bound[layout.slots];
        this.bytes = plan.bytes;
        this.transfers = transfers;
        this.chunkRan = new boolean[plan.chunks];
    }

    int chunks() {
        return plan.chunks;
    }

    /**
     * Runs the chunks of one part in order, with its ops' per-call values (partOps: the part's ops, bound by b, which
     * places their offsets in the slots); fills each op's result. With load (part 0 only), the load graphs run first
     * and send the resident slots down (always on a first run: before it they are nowhere on the device).
     */
    void execute(int part, List<Op> partOps, Binding b, boolean load) {
        int base = part == 0 ? 0 : layout.split;
        for (int j = 0; j < partOps.size(); j++) {
            Op op = partOps.get(j);
            if (op.ints != null) {
                int at = layout.intAt[base + j];
                for (int i = 0; i < op.ints.length; i++) {
                    long lo = op.fixup[i] < 0 ? 0 : b.lo(b.slot(op.accesses.get(op.fixup[i]).t()));
                    plan.ints[part].set(at + i, Math.toIntExact(op.ints[i] - lo));
                }
            }
            if (op.floats != null) {
                MemorySegment.copy(op.floats, 0, plan.floats[part].getSegment(), ValueLayout.JAVA_FLOAT,
                        4L * layout.floatAt[base + j], op.floats.length);
            }
        }
        load = part == 0 && (load || !executed);
        if (plan.chunks == 1 && plan.loads == 0) {
            last = plan.plan.execute();
        } else {
            for (int l = 0; load && l < plan.loads; l++) {
                plan.plan.withGraph(l).execute();
            }
            for (int c = plan.partChunk[part]; c < plan.partChunk[part + 1]; c++) {
                last = plan.plan.withGraph(plan.loads + c).execute();
            }
        }
        executed = true;
        if (load && plan.loads > 0) {
            transfers.add(plan.loadIn, plan.loadInBytes, 0, 0);
            transfers.executions.addAndGet(plan.loads);
        }
        for (int c = plan.partChunk[part]; c < plan.partChunk[part + 1]; c++) {
            if (!chunkRan[c]) {
                chunkRan[c] = true;
                transfers.add(plan.firstN[c], plan.firstB[c], 0, 0);
            }
            transfers.add(plan.inN[c], plan.inB[c], plan.outN[c], plan.outB[c]);
            transfers.executions.incrementAndGet();
        }
        for (int j = 0; j < partOps.size(); j++) {
            if (plan.results[base + j] != null) {
                partOps.get(j).result = plan.results[base + j].toHeapArray();
            }
        }
    }

    /**
     * Device to host of a slot's value as the given part left it (from the last chunk of that part that used it: a
     * chunk executed in the same run), then into the range of the tensor it holds ({@link #owner}).
     */
    void fetch(int slot, int part) {
        if (plan.loads + plan.chunks > 1) {
            plan.plan.withGraph(plan.loads + plan.fetchChunk[part][slot]);
        }
        last.transferToHost(plan.slots[slot]);
        transfers.add(0, 0, 1, plan.slots[slot].getNumBytesOfSegment());
        Binding.Bound into = owner[slot];
        MemorySegment.copy(plan.slots[slot].getSegment(), 0, into.t().data.getSegment(), 4 * into.lo(),
                4 * layout.size[slot]);
    }

    /** Host to slot before a run (host memory only; the slot goes down with the run). */
    void load(int slot, Binding.Bound from) {
        MemorySegment.copy(from.t().data.getSegment(), 4 * from.lo(), plan.slots[slot].getSegment(), 0,
                4 * layout.size[slot]);
    }

    @Override
    public void close() {
        try {
            plan.plan.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing a TornadoVM plan", e);
        }
    }
}
