package org.pairwise.accel.tornado;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.pairwise.accel.DType;
import org.pairwise.accel.DTypes;
import org.pairwise.accel.Tensor;
import org.pairwise.accel.Weight;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * A weight as F32. Frozen weights are converted once on the host (F16, BF16 and Q8_0 decode exactly to F32), bound by
 * identity to every compiled sequence that reads them, and reach the device once per sequence; a live view of a
 * trainable tensor (a LoRA matrix, usually a view of the adapter's flat buffer) is that tensor, resident like any
 * other (the optimizer changes it between calls).
 */
final class TornadoWeight implements Weight {
    /** A frozen weight's values (null for a live one). */
    final FloatArray data;
    /** The trainable tensor or view a live weight reads (null for a frozen one). */
    final Tensor tensor;
    final boolean live;
    private final int rows;
    private final int cols;
    private final DType dtype;

    private TornadoWeight(FloatArray data, Tensor tensor, DType dtype, int rows, int cols) {
        this.data = data;
        this.tensor = tensor;
        this.live = tensor != null;
        this.dtype = dtype;
        this.rows = rows;
        this.cols = cols;
    }

    /** Checked by the backend (DType#checkMatrix). */
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

    static TornadoWeight view(Tensor t, int rows, int cols) {
        TornadoTensor.base(t);
        Tensor.checkRange(t, 0, (long) rows * cols);
        return new TornadoWeight(null, t, DType.F32, rows, cols);
    }

    static TornadoWeight of(Weight w) {
        if (w instanceof TornadoWeight tw) {
            return tw;
        }
        throw new IllegalArgumentException("not a tornadovm weight: " + w);
    }

    /** Checks that this weight is (rows, cols), naming it as what in the error. */
    TornadoWeight shaped(String what, int rows, int cols) {
        if (this.rows != rows || this.cols != cols) {
            throw new IllegalArgumentException(what + " " + this + " is not [" + rows + "x" + cols + "]");
        }
        return this;
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
