package org.pairwise.accel.cpu;

import org.pairwise.accel.Weight;

/**
 * A frozen matrix (rows, cols) in its stored dtype. Kernels reach it through two row-level operations, so the
 * vector loops inside stay monomorphic per dtype (one virtual call per row, never per vector).
 */
abstract sealed class CpuWeight implements Weight permits HeapWeight, F32Weight, Bf16Weight, F16Weight, Q8Weight {
    final int rows;
    final int cols;

    CpuWeight(int rows, int cols) {
        this.rows = rows;
        this.cols = cols;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    /** Row r . x[xOff .. xOff+cols), read straight from storage (decode is bound by memory bandwidth). */
    abstract float dot(int r, float[] x, int xOff);

    /** dst[dstOff .. +len) = row r, columns [c0, c0+len) in F32; for Q8_0, c0 is a multiple of 32. */
    abstract void rowTo(int r, int c0, int len, float[] dst, int dstOff);

    /** The backing F32 array (row-major, from index 0) when no conversion is needed; null otherwise. */
    float[] heapArray() {
        return null;
    }

    /** As {@link #heapArray}, but rows may start further in, at {@link #heapOffset} (a view into a flat buffer). */
    float[] heapArrayAt() {
        return heapArray();
    }

    int heapOffset() {
        return 0;
    }

    static CpuWeight of(Weight w) {
        if (w instanceof CpuWeight c) {
            return c;
        }
        throw new IllegalArgumentException("not a cpu weight: " + w);
    }

    @Override
    public String toString() {
        return dtype() + "[" + rows + "x" + cols + "]";
    }
}
