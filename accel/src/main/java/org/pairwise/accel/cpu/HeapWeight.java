package org.pairwise.accel.cpu;

import org.pairwise.accel.DType;

/** An F32 view of a heap tensor (a trainable LoRA matrix): reads the live array, so it sees later updates. */
final class HeapWeight extends CpuWeight {
    private final float[] a;

    HeapWeight(float[] a, int rows, int cols) {
        super(rows, cols);
        if ((long) rows * cols > a.length) {
            throw new IllegalArgumentException("tensor of " + a.length + " floats is smaller than " + rows + "x" + cols);
        }
        this.a = a;
    }

    @Override
    public DType dtype() {
        return DType.F32;
    }

    @Override
    float dot(int r, float[] x, int xOff) {
        return Vec.dot(a, r * cols, x, xOff, cols);
    }

    @Override
    void rowTo(int r, int c0, int len, float[] dst, int dstOff) {
        System.arraycopy(a, r * cols + c0, dst, dstOff, len);
    }

    @Override
    float[] heapArray() {
        return a;
    }
}
