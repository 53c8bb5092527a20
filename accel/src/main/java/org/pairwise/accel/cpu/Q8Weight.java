package org.pairwise.accel.cpu;

import static org.pairwise.accel.cpu.Vec.F;
import static org.pairwise.accel.cpu.Vec.L;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.pairwise.accel.DType;

/** llama.cpp Q8_0: along each row, blocks of an f16 scale d and 32 int8 q (34 bytes); value = d * q. */
final class Q8Weight extends CpuWeight {
    private static final int QK = 32;
    private static final int BLOCK_BYTES = 34;
    private final MemorySegment seg;
    private final int blocksPerRow;

    Q8Weight(MemorySegment seg, int rows, int cols) {
        super(rows, cols);
        if (cols % QK != 0) {
            throw new IllegalArgumentException("Q8_0 needs cols divisible by 32, got " + cols);
        }
        this.seg = seg;
        this.blocksPerRow = cols / QK;
    }

    @Override
    public DType dtype() {
        return DType.Q8_0;
    }

    private float scale(long blk) {
        return Float.float16ToFloat(seg.get(Vec.I16, blk));
    }

    @Override
    float dot(int r, float[] x, int xOff) {
        long base = (long) r * blocksPerRow * BLOCK_BYTES;
        if (Vec.B == null) {
            return scalarDot(base, x, xOff);
        }
        // Sum q*x within a block first, then scale once per block (as llama.cpp's vec_dot_q8_0 does).
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        for (int b = 0; b < blocksPerRow; b++) {
            long blk = base + (long) b * BLOCK_BYTES;
            int c = b * QK;
            FloatVector s = FloatVector.zero(F);
            for (int j = 0; j < QK; j += L) {
                s = Vec.i8(seg, blk + 2 + j).fma(FloatVector.fromArray(F, x, xOff + c + j), s);
            }
            if ((b & 1) == 0) {
                acc0 = s.fma(FloatVector.broadcast(F, scale(blk)), acc0);
            } else {
                acc1 = s.fma(FloatVector.broadcast(F, scale(blk)), acc1);
            }
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    private float scalarDot(long base, float[] x, int xOff) {
        float s = 0f;
        for (int b = 0; b < blocksPerRow; b++) {
            long blk = base + (long) b * BLOCK_BYTES;
            float bs = 0f;
            for (int j = 0; j < QK; j++) {
                bs += seg.get(ValueLayout.JAVA_BYTE, blk + 2 + j) * x[xOff + b * QK + j];
            }
            s += scale(blk) * bs;
        }
        return s;
    }

    @Override
    void rowTo(int r, int c0, int len, float[] dst, int dstOff) {
        if (c0 % QK != 0) {
            throw new IllegalArgumentException("Q8_0 rows are read from block boundaries, not column " + c0);
        }
        long base = (long) r * blocksPerRow * BLOCK_BYTES;
        for (int c = 0; c < len; c += QK) {
            long blk = base + (long) ((c0 + c) / QK) * BLOCK_BYTES;
            float d = scale(blk);
            int n = Math.min(QK, len - c);
            int j = 0;
            if (Vec.B != null) {
                for (; j + L <= n; j += L) {
                    Vec.i8(seg, blk + 2 + j).mul(d).intoArray(dst, dstOff + c + j);
                }
            }
            for (; j < n; j++) {
                dst[dstOff + c + j] = d * seg.get(ValueLayout.JAVA_BYTE, blk + 2 + j);
            }
        }
    }
}
