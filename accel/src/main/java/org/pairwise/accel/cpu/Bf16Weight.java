package org.pairwise.accel.cpu;

import static org.pairwise.accel.cpu.Vec.F;
import static org.pairwise.accel.cpu.Vec.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.pairwise.accel.DType;

/** BF16 weights (the top 16 bits of an f32), widened in registers. */
final class Bf16Weight extends CpuWeight {
    private final MemorySegment seg;

    Bf16Weight(MemorySegment seg, int rows, int cols) {
        super(rows, cols);
        this.seg = seg;
    }

    @Override
    public DType dtype() {
        return DType.BF16;
    }

    @Override
    float dot(int r, float[] x, int xOff) {
        return dotOfPair(r, x, xOff);
    }

    // As F32Weight's: two sums, four accumulators each, the halves widened in registers.
    @Override
    void dot2(int rA, float[] x, int xA, int rB, int xB, float[] two) {
        long bA = (long) rA * cols * 2, bB = (long) rB * cols * 2;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int c = 0;
        for (int cEnd = cols - 4 * L; c <= cEnd; c += 4 * L) {
            long o = 2L * c;
            a0 = Vec.bf16(seg, bA + o).fma(FloatVector.fromArray(F, x, xA + c), a0);
            b0 = Vec.bf16(seg, bB + o).fma(FloatVector.fromArray(F, x, xB + c), b0);
            a1 = Vec.bf16(seg, bA + o + 2 * L).fma(FloatVector.fromArray(F, x, xA + c + L), a1);
            b1 = Vec.bf16(seg, bB + o + 2 * L).fma(FloatVector.fromArray(F, x, xB + c + L), b1);
            a2 = Vec.bf16(seg, bA + o + 4 * L).fma(FloatVector.fromArray(F, x, xA + c + 2 * L), a2);
            b2 = Vec.bf16(seg, bB + o + 4 * L).fma(FloatVector.fromArray(F, x, xB + c + 2 * L), b2);
            a3 = Vec.bf16(seg, bA + o + 6 * L).fma(FloatVector.fromArray(F, x, xA + c + 3 * L), a3);
            b3 = Vec.bf16(seg, bB + o + 6 * L).fma(FloatVector.fromArray(F, x, xB + c + 3 * L), b3);
        }
        for (int cEnd = cols - L; c <= cEnd; c += L) {
            a0 = Vec.bf16(seg, bA + 2L * c).fma(FloatVector.fromArray(F, x, xA + c), a0);
            b0 = Vec.bf16(seg, bB + 2L * c).fma(FloatVector.fromArray(F, x, xB + c), b0);
        }
        float sa = Vec.sumLanes(a0.add(a1).add(a2.add(a3)));
        float sb = Vec.sumLanes(b0.add(b1).add(b2.add(b3)));
        for (; c < cols; c++) {
            sa += Vec.bf16(seg.get(Vec.I16, bA + 2L * c)) * x[xA + c];
            sb += Vec.bf16(seg.get(Vec.I16, bB + 2L * c)) * x[xB + c];
        }
        two[0] = sa;
        two[1] = sb;
    }

    @Override
    void rowTo(int r, int c0, int len, float[] dst, int dstOff) {
        long base = ((long) r * cols + c0) * 2;
        int c = 0;
        for (int cEnd = len - L; c <= cEnd; c += L) {
            Vec.bf16(seg, base + 2L * c).intoArray(dst, dstOff + c);
        }
        for (; c < len; c++) {
            dst[dstOff + c] = Vec.bf16(seg.get(Vec.I16, base + 2L * c));
        }
    }
}
