package org.pairwise.accel.cpu;

import org.pairwise.accel.Tensor;

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

    static float[] of(Tensor t) {
        if (t instanceof CpuTensor c) {
            return c.data;
        }
        throw new IllegalArgumentException("not a cpu tensor: " + t);
    }

    static float[] orNull(Tensor t) {
        return t == null ? null : of(t);
    }
}
