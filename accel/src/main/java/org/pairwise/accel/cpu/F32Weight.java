package org.pairwise.accel.cpu;

import static org.pairwise.accel.cpu.Vec.F;
import static org.pairwise.accel.cpu.Vec.L;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.pairwise.accel.DType;

/** F32 weights in a (possibly mapped, possibly unaligned) segment. */
final class F32Weight extends CpuWeight {
    private final MemorySegment seg;

    F32Weight(MemorySegment seg, int rows, int cols) {
        super(rows, cols);
        this.seg = seg;
    }

    @Override
    public DType dtype() {
        return DType.F32;
    }

    @Override
    float dot(int r, float[] x, int xOff) {
        return dotOfPair(r, x, xOff);
    }

    // two[0] = row rA . x[xA..], two[1] = row rB . x[xB..]: four accumulators per sum, both sums in one loop so the
    // FMA units see eight independent chains (one chain waits out the FMA latency).
    @Override
    void dot2(int rA, float[] x, int xA, int rB, int xB, float[] two) {
        long bA = (long) rA * cols * 4, bB = (long) rB * cols * 4;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        // Loop bounds computed up front (c < n4, not c + 4L <= cols): C2 then proves every index in range once,
        // outside the loop, instead of checking each load.
        int n4 = cols / (4 * L) * (4 * L), n1 = cols / L * L;
        int c = 0;
        for (; c < n4; c += 4 * L) {
            long o = 4L * c;
            a0 = Vec.f32(seg, bA + o).fma(FloatVector.fromArray(F, x, xA + c), a0);
            b0 = Vec.f32(seg, bB + o).fma(FloatVector.fromArray(F, x, xB + c), b0);
            a1 = Vec.f32(seg, bA + o + 4 * L).fma(FloatVector.fromArray(F, x, xA + c + L), a1);
            b1 = Vec.f32(seg, bB + o + 4 * L).fma(FloatVector.fromArray(F, x, xB + c + L), b1);
            a2 = Vec.f32(seg, bA + o + 8 * L).fma(FloatVector.fromArray(F, x, xA + c + 2 * L), a2);
            b2 = Vec.f32(seg, bB + o + 8 * L).fma(FloatVector.fromArray(F, x, xB + c + 2 * L), b2);
            a3 = Vec.f32(seg, bA + o + 12 * L).fma(FloatVector.fromArray(F, x, xA + c + 3 * L), a3);
            b3 = Vec.f32(seg, bB + o + 12 * L).fma(FloatVector.fromArray(F, x, xB + c + 3 * L), b3);
        }
        for (; c < n1; c += L) {
            a0 = Vec.f32(seg, bA + 4L * c).fma(FloatVector.fromArray(F, x, xA + c), a0);
            b0 = Vec.f32(seg, bB + 4L * c).fma(FloatVector.fromArray(F, x, xB + c), b0);
        }
        float sa = Vec.sumLanes(a0.add(a1).add(a2.add(a3)));
        float sb = Vec.sumLanes(b0.add(b1).add(b2.add(b3)));
        for (; c < cols; c++) {
            sa += seg.get(Vec.F32, bA + 4L * c) * x[xA + c];
            sb += seg.get(Vec.F32, bB + 4L * c) * x[xB + c];
        }
        two[0] = sa;
        two[1] = sb;
    }

    @Override
    void rowTo(int r, int c0, int len, float[] dst, int dstOff) {
        MemorySegment.copy(seg, Vec.F32, ((long) r * cols + c0) * 4, dst, dstOff, len);
    }
}
