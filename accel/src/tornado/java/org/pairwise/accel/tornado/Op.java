package org.pairwise.accel.tornado;

import java.util.ArrayList;
import java.util.List;
import org.pairwise.accel.Tensor;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray;

/**
 * One recorded kernel call: its shape, the floats of each tensor it reads and writes, the frozen arrays it reads
 * (weights, rope tables), its per-call values (token ids, positions, a scale) and how to add its tasks to a graph.
 * Calls are recorded, not run ({@link Recorder}). Everything a call's tasks take when its graph is built (shapes,
 * fixed scalars) is in its shape, because the shape is part of the key a compiled sequence is found by
 * ({@link SequenceKey}); what changes from call to call travels in its per-call values. Where a view starts in its slot
 * ({@link Binding}) is in the key too, and its kernel takes it when the graph is built ({@link Args#at}); only copy
 * takes its offsets per call, so that one compiled copy serves every position (a KV cache filled token by token).
 */
final class Op {
    /**
     * How a call uses floats [off, off + n) of a tensor (a view's base): read, written, or both; perCall where the
     * kernel takes the offset per call (copy) rather than when its graph is built.
     */
    record Access(TornadoTensor t, long off, long n, boolean read, boolean write, boolean perCall) {}

    /** Adds a call's tasks to a graph; the graph's own arrays stand in for the call's tensors. */
    interface Tasks {
        void add(TaskGraph g, String name, Args a);
    }

    /** What a call's tasks see while a graph is built ({@link Plan}). */
    interface Args {
        /** The graph's array for a tensor of the call, or for the base of a view (its slot, see {@link SlotLayout}). */
        FloatArray of(Tensor t);

        /** Where a tensor or view of the call starts in its slot. */
        int at(Tensor t);

        /** Where a weight starts in its slot (0 for a frozen one). */
        int at(TornadoWeight w);

        /** A frozen weight's array, or the slot of a live (trainable) one's base. */
        FloatArray of(TornadoWeight w);

        /** The sequence's per-call ints (one array, sent every execution); this call's start at {@link #intsAt}. */
        IntArray ints();

        int intsAt();

        /** The sequence's per-call floats (one array, sent every execution); this call's start at {@link #floatsAt}. */
        FloatArray floats();

        int floatsAt();

        /** A device-only scratch array of n floats owned by the graph (sent once, never read back). */
        FloatArray scratch(long n);

        /** A small output the host reads after every execution (a partial sum, say). */
        FloatArray result(int n);
    }

    final List<Object> shape = new ArrayList<>();
    final List<Access> accesses = new ArrayList<>();
    final List<TornadoNativeArray> constants = new ArrayList<>();
    /** Per-call ints; where fixup[i] is an access's index, ints[i] is an offset in that access's buffer. */
    int[] ints;
    int[] fixup;
    float[] floats;
    /** Tasks this call adds: graphs are cut by task count ({@link Chunker}). */
    int taskCount = 1;
    Tasks tasks;
    /** After the call ran: its result array's values (see {@link Args#result}). */
    float[] result;

    Op(Object... shape) {
        this.shape.addAll(List.of(shape));
    }

    /** Floats [0, n) of a whole tensor (a kernel that takes no views: a view is rejected here, when the call is made). */
    Op read(Tensor t, long n) {
        return access(TornadoTensor.of(t), 0, n, true, false);
    }

    Op write(Tensor t, long n) {
        return access(TornadoTensor.of(t), 0, n, false, true);
    }

    Op update(Tensor t, long n) {
        return access(TornadoTensor.of(t), 0, n, true, true);
    }

    /** Floats [off, off + n) of t, a tensor or a view, for a kernel that takes views (and their offsets, {@link Args#at}). */
    Op readView(Tensor t, long off, long n) {
        return viewAccess(t, off, n, true, false);
    }

    Op writeView(Tensor t, long off, long n) {
        return viewAccess(t, off, n, false, true);
    }

    Op updateView(Tensor t, long off, long n) {
        return viewAccess(t, off, n, true, true);
    }

    /** A live weight (a LoRA matrix, usually a view) is a tensor the optimizer changes; a frozen one is constant. */
    Op weight(TornadoWeight w) {
        if (w.live) {
            return readView(w.tensor, 0, (long) w.rows() * w.cols());
        }
        return constant(w.data);
    }

    Op constant(TornadoNativeArray a) {
        constants.add(a);
        return this;
    }

    /** Appends per-call ints. */
    Op ints(int... v) {
        int at = ints == null ? 0 : ints.length;
        ints = ints == null ? v.clone() : java.util.Arrays.copyOf(ints, at + v.length);
        fixup = fixup == null ? new int[v.length] : java.util.Arrays.copyOf(fixup, at + v.length);
        for (int i = 0; i < v.length; i++) {
            ints[at + i] = v[i];
            fixup[at + i] = -1;
        }
        return this;
    }

    /**
     * Appends off, an offset in the buffer of the last access, as a per-call int, made relative to its slot when the
     * sequence runs; the access's own offset is then per call (not in the key).
     */
    Op offsetInt(long off) {
        ints(Math.toIntExact(off));
        fixup[fixup.length - 1] = accesses.size() - 1;
        Access a = accesses.getLast();
        accesses.set(accesses.size() - 1, new Access(a.t(), a.off(), a.n(), a.read(), a.write(), true));
        return this;
    }

    Op floats(float... v) {
        floats = v;
        return this;
    }

    Op tasks(int count, Tasks t) {
        taskCount = count;
        tasks = t;
        return this;
    }

    private Op viewAccess(Tensor t, long off, long n, boolean read, boolean write) {
        Tensor.checkRange(t, off, n);
        return access(TornadoTensor.base(t), TornadoTensor.offset(t) + off, n, read, write);
    }

    /** Floats [off, off + n) of a buffer, read and written (a copy within it: the span of both its ranges). */
    Op updateRange(TornadoTensor t, long off, long n) {
        return access(t, off, n, true, true);
    }

    // TornadoVM passes an array to a task once: a task that took it twice and wrote it would never be scheduled (its
    // graph compiler loops on the dependency cycle), so such a call is rejected here (see TensorView#requireSeparate).
    private Op access(TornadoTensor t, long off, long n, boolean read, boolean write) {
        Tensor.checkRange(t, off, n);
        for (Access a : accesses) {
            if (a.t() == t && (write || a.write())) {
                throw new IllegalArgumentException(shape.getFirst() + " writes a tensor that shares a buffer with"
                        + " another of its tensors: [" + a.off() + ", " + (a.off() + a.n()) + ") and [" + off + ", "
                        + (off + n) + ") of one buffer of " + t.size() + " floats");
            }
        }
        accesses.add(new Access(t, off, n, read, write, false));
        return this;
    }
}
