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
        return dotOfPair(r, x, xOff);
    }

    @Override
    void dot2(int rA, float[] x, int xA, int rB, int xB, float[] two) {
        long bA = (long) rA * blocksPerRow * BLOCK_BYTES, bB = (long) rB * blocksPerRow * BLOCK_BYTES;
        if (Vec.B == null) {
            two[0] = scalarDot(bA, x, xA);
            two[1] = scalarDot(bB, x, xB);
            return;
        }
        // Sum q*x within a block first, then scale once per block (as llama.cpp's vec_dot_q8_0 does).
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0;
        for (int b = 0; b < blocksPerRow; b++) {
            long kA = bA + (long) b * BLOCK_BYTES, kB = bB + (long) b * BLOCK_BYTES;
            int c = b * QK;
            FloatVector sA = FloatVector.zero(F), sB = sA;
            for (int j = 0; j < QK; j += L) {
                sA = Vec.i8(seg, kA + 2 + j).fma(FloatVector.fromArray(F, x, xA + c + j), sA);
                sB = Vec.i8(seg, kB + 2 + j).fma(FloatVector.fromArray(F, x, xB + c + j), sB);
            }
            if ((b & 1) == 0) {
                a0 = sA.fma(FloatVector.broadcast(F, scale(kA)), a0);
                b0 = sB.fma(FloatVector.broadcast(F, scale(kB)), b0);
            } else {
                a1 = sA.fma(FloatVector.broadcast(F, scale(kA)), a1);
                b1 = sB.fma(FloatVector.broadcast(F, scale(kB)), b1);
            }
        }
        two[0] = Vec.sumLanes(a0.add(a1));
        two[1] = Vec.sumLanes(b0.add(b1));
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
                for (int jEnd = n - L; j <= jEnd; j += L) {
                    Vec.i8(seg, blk + 2 + j).mul(d).intoArray(dst, dstOff + c + j);
                }
            }
            for (; j < n; j++) {
                dst[dstOff + c + j] = d * seg.get(ValueLayout.JAVA_BYTE, blk + 2 + j);
            }
        }
    }
}
