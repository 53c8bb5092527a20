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
 * offsets into a flat buffer, fixed scalars) is in its shape, because the shape is part of the key a compiled sequence
 * is found by ({@link SequenceKey}); what changes from call to call travels in its per-call values.
 */
final class Op {
    /** How a call uses floats [off, off + n) of a tensor (a view's base): read, written, or both. */
    record Access(TornadoTensor t, long off, long n, boolean read, boolean write) {
        /** Whether the access covers the whole tensor (a whole write needs none of its old value). */
        boolean whole() {
            return off == 0 && n == t.size();
        }
    }

    /** Adds a call's tasks to a graph; the graph's own arrays stand in for the call's tensors. */
    interface Tasks {
        void add(TaskGraph g, String name, Args a);
    }

    /** What a call's tasks see while a graph is built ({@link PlanBuilder}). */
    interface Args {
        /** The graph's array for a tensor of the call, or for the base of a view (its slot, see {@link SlotLayout}). */
        FloatArray of(Tensor t);

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
    int[] ints;
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

    /** Floats [off, off + n) of t, a tensor or a view (a kernel that takes views gets the view's offset as well). */
    Op readAt(Tensor t, long off, long n) {
        return viewAccess(t, off, n, true, false);
    }

    Op writeAt(Tensor t, long off, long n) {
        return viewAccess(t, off, n, false, true);
    }

    Op updateAt(Tensor t, long off, long n) {
        return viewAccess(t, off, n, true, true);
    }

    /** A live weight (a LoRA matrix) is a tensor the optimizer changes; a frozen one is constant. */
    Op weight(TornadoWeight w) {
        if (w.live) {
            return readAt(w.tensor, 0, (long) w.rows() * w.cols());
        }
        return constant(w.data);
    }

    Op constant(TornadoNativeArray a) {
        constants.add(a);
        return this;
    }

    Op ints(int[] v) {
        ints = v;
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
        accesses.add(new Access(t, off, n, read, write));
        return this;
    }
}
