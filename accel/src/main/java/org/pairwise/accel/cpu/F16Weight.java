package org.pairwise.accel.cpu;

import java.lang.foreign.MemorySegment;
import org.pairwise.accel.DType;

/** F16 (IEEE half) weights, widened in registers. */
final class F16Weight extends CpuWeight {
    private final MemorySegment seg;

    F16Weight(MemorySegment seg, int rows, int cols) {
        super(rows, cols);
        this.seg = seg;
    }

    @Override
    public DType dtype() {
        return DType.F16;
    }

    @Override
    float dot(int r, float[] x, int xOff) {
        float[] row = new float[cols];
        rowTo(r, 0, cols, row, 0);
        float[] two = new float[2];
        Vec.dot2(row, 0, x, xOff, row, 0, x, xOff, cols, two);
        return two[0];
    }

    // Rows are converted into the scratch first (one hardware conversion per vector, see rowTo), then the F32 dot runs
    // from L1: with two tokens each row is converted once for both.
    @Override
    void decode(int o0, int o1, float[] x, int n, float[] out, int ldo, float[] scratch) {
        int[] held = {-1, -1};
        decodeInPairs(o0, o1, cols, n, out, ldo, (rA, xA, rB, xB, two) -> {
            if (held[0] != rA) {
                rowTo(rA, 0, cols, scratch, 0);
                held[0] = rA;
            }
            if (rB != rA && held[1] != rB) {
                rowTo(rB, 0, cols, scratch, cols);
                held[1] = rB;
            }
            Vec.dot2(scratch, 0, x, xA, scratch, rB == rA ? 0 : cols, x, xB, cols, two);
        });
    }

    @Override
    void rowTo(int r, int c0, int len, float[] dst, int dstOff) {
        // A plain loop of Float.float16ToFloat: C2 vectorizes it with the hardware conversion (vcvtph2ps), which is
        // several times faster than widening the bits by hand in vector registers.
        long base = ((long) r * cols + c0) * 2;
        for (int c = 0; c < len; c++) {
            dst[dstOff + c] = Float.float16ToFloat(seg.get(Vec.I16, base + 2L * c));
        }
    }
}
