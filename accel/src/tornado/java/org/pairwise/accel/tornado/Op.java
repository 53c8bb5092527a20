package org.pairwise.accel.tornado;

import java.util.ArrayList;
import java.util.List;
import org.pairwise.accel.Tensor;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * One recorded kernel call: its shape, the tensors it reads and writes, the frozen arrays it reads (weights, rope
 * tables), its per-call values (token ids, positions, a scale) and how to add its tasks to a graph. Calls are recorded,
 * not run: {@link Residency} runs a recorded sequence when the host needs one of its tensors.
 */
final class Op {
    /** How a call uses a tensor: read, written, both, and whether a write covers the whole tensor. */
    record Access(TornadoTensor t, boolean read, boolean write, boolean whole) {}

    /** Adds a call's tasks to a graph; the graph's own arrays stand in for the call's tensors. */
    interface Tasks {
        void add(TaskGraph g, String name, Args a);
    }

    /** What a call's tasks see while a graph is built. */
    interface Args {
        /** The graph's array for a tensor of the call (its slot, see {@link Fused}). */
        FloatArray of(Tensor t);

        /** A frozen weight's array, or the slot of a live (trainable) one. */
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
    final List<FloatArray> constants = new ArrayList<>();
    int[] ints;
    float[] floats;
    /** Tasks this call adds: graphs are cut by task count (TornadoGraph has room for 1024 nodes). */
    int taskCount = 1;
    Tasks tasks;
    /** After the call ran: its result array's values (see {@link Args#result}). */
    float[] result;

    Op(Object... shape) {
        this.shape.addAll(List.of(shape));
    }

    Op read(Tensor t, long n) {
        return access(t, 0, n, true, false);
    }

    Op write(Tensor t, long n) {
        return access(t, 0, n, false, true);
    }

    Op writeAt(Tensor t, long off, long n) {
        return access(t, off, n, false, true);
    }

    Op update(Tensor t, long n) {
        return access(t, 0, n, true, true);
    }

    /** A live weight (a LoRA matrix) is a tensor the optimizer changes; a frozen one is constant. */
    Op weight(TornadoWeight w) {
        if (w.live) {
            return read(w.tensor, (long) w.rows() * w.cols());
        }
        return constant(w.data);
    }

    Op constant(FloatArray a) {
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

    private Op access(Tensor t, long off, long n, boolean read, boolean write) {
        TornadoTensor tt = TornadoTensor.of(t);
        if (off < 0 || n < 0 || off + n > tt.size()) {
            throw new IndexOutOfBoundsException("[" + off + ", " + (off + n) + ") outside a tensor of " + tt.size()
                    + " floats");
        }
        accesses.add(new Access(tt, read, write, off == 0 && n == tt.size()));
        return this;
    }
}
