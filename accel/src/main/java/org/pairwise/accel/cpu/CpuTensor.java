package org.pairwise.accel.cpu;

import org.pairwise.accel.Tensor;
import org.pairwise.accel.TensorView;

/** An F32 tensor on the Java heap; the CPU backend's kernels work on {@link #data} directly. */
public final class CpuTensor implements Tensor {
    final float[] data;

    CpuTensor(float[] data) {
        this.data = data;
    }

    @Override
    public long size() {
        return data.length;
    }

    /** The array of a whole cpu tensor, for the kernels that take no views (see Backend#view). */
    static float[] of(Tensor t) {
        if (t instanceof TensorView v) {
            throw new IllegalArgumentException("this kernel takes whole tensors, not a " + v);
        }
        return array(t);
    }

    static float[] orNull(Tensor t) {
        return t == null ? null : of(t);
    }

    /** The array a cpu tensor or view lives in; the view starts at {@link #offset}. */
    static float[] array(Tensor t) {
        if (TensorView.baseOf(t) instanceof CpuTensor c) {
            return c.data;
        }
        throw new IllegalArgumentException("not a cpu tensor: " + t);
    }

    static int offset(Tensor t) {
        return Math.toIntExact(TensorView.offsetOf(t));
    }
}
