package org.pairwise.accel.tornado;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.pairwise.accel.DType;
import org.pairwise.accel.DTypes;
import org.pairwise.accel.Weight;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * A weight as F32 on the host. Frozen weights are converted once (F16, BF16 and Q8_0 decode exactly to F32), bound by
 * identity to every compiled sequence that reads them, and reach the device once per sequence; a live view of a
 * trainable tensor (LoRA) is that tensor, resident like any other (the optimizer changes it between calls).
 */
final class TornadoWeight implements Weight {
    final FloatArray data;
    final boolean live;
    /** The trainable tensor a live view reads (null for a frozen weight). */
    final TornadoTensor tensor;
    private final int rows;
    private final int cols;
    private final DType dtype;

    private TornadoWeight(FloatArray data, TornadoTensor tensor, DType dtype, int rows, int cols) {
        this.data = data;
        this.tensor = tensor;
        this.live = tensor != null;
        this.dtype = dtype;
        this.rows = rows;
        this.cols = cols;
    }

    static TornadoWeight frozen(MemorySegment seg, DType dtype, int rows, int cols) {
        int n = Math.toIntExact((long) rows * cols);
        FloatArray a = new FloatArray(Math.max(1, n));
        if (dtype == DType.F32) {
            MemorySegment.copy(seg, DTypes.F32, 0, a.getSegment(), ValueLayout.JAVA_FLOAT, 0, n);
        } else {
            for (int i = 0; i < n; i++) {
                a.set(i, DTypes.get(seg, dtype, i));
            }
        }
        return new TornadoWeight(a, null, dtype, rows, cols);
    }

    static TornadoWeight view(TornadoTensor t, int rows, int cols) {
        if ((long) rows * cols > t.size()) {
            throw new IllegalArgumentException("tensor of " + t.size() + " floats is smaller than " + rows + "x" + cols);
        }
        return new TornadoWeight(t.data, t, DType.F32, rows, cols);
    }

    static TornadoWeight of(Weight w) {
        if (w instanceof TornadoWeight tw) {
            return tw;
        }
        throw new IllegalArgumentException("not a tornadovm weight: " + w);
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public String toString() {
        return dtype + "[" + rows + "x" + cols + "]";
    }
}
