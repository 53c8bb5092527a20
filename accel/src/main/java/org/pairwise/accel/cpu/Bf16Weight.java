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
        long base = (long) r * cols * 2;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int c = 0;
        for (; c + 4 * L <= cols; c += 4 * L) {
            a0 = Vec.bf16(seg, base + 2L * c).fma(FloatVector.fromArray(F, x, xOff + c), a0);
            a1 = Vec.bf16(seg, base + 2L * (c + L)).fma(FloatVector.fromArray(F, x, xOff + c + L), a1);
            a2 = Vec.bf16(seg, base + 2L * (c + 2 * L)).fma(FloatVector.fromArray(F, x, xOff + c + 2 * L), a2);
            a3 = Vec.bf16(seg, base + 2L * (c + 3 * L)).fma(FloatVector.fromArray(F, x, xOff + c + 3 * L), a3);
        }
        for (; c + L <= cols; c += L) {
            a0 = Vec.bf16(seg, base + 2L * c).fma(FloatVector.fromArray(F, x, xOff + c), a0);
        }
        float s = a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        for (; c < cols; c++) {
            s += Vec.bf16(seg.get(Vec.I16, base + 2L * c)) * x[xOff + c];
        }
        return s;
    }

    @Override
    void rowTo(int r, int c0, int len, float[] dst, int dstOff) {
        long base = ((long) r * cols + c0) * 2;
        int c = 0;
        for (; c + L <= len; c += L) {
            Vec.bf16(seg, base + 2L * c).intoArray(dst, dstOff + c);
        }
        for (; c < len; c++) {
            dst[dstOff + c] = Vec.bf16(seg.get(Vec.I16, base + 2L * c));
        }
    }
}
