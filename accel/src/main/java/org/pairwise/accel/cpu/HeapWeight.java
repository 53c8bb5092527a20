package org.pairwise.accel.cpu;

import org.pairwise.accel.DType;

/**
 * An F32 view of a heap tensor from index off (a trainable LoRA matrix in an adapter's flat buffer): reads the live
 * array, so it sees later updates.
 */
final class HeapWeight extends CpuWeight {
    private final float[] a;
    private final int off;

    HeapWeight(float[] a, int off, int rows, int cols) {
        super(rows, cols);
        this.a = a;
        this.off = off;
    }

    @Override
    public DType dtype() {
        return DType.F32;
    }

    @Override
    float dot(int r, float[] x, int xOff) {
        return Vec.dot(a, off + r * cols, x, xOff, cols);
    }

    @Override
    void rowTo(int r, int c0, int len, float[] dst, int dstOff) {
        System.arraycopy(a, off + r * cols + c0, dst, dstOff, len);
    }

    @Override
    float[] heapArray() {
        return off == 0 ? a : null;
    }

    @Override
    float[] heapArrayAt() {
        return a;
    }

    @Override
    int heapOffset() {
        return off;
    }
}
