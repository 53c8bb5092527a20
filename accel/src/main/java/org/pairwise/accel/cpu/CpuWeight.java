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

    /**
     * out[t*ldo + o] = row o . x[t*cols .. (t+1)*cols) for rows o0 &lt;= o &lt; o1 and tokens t &lt; n: decode's
     * matrix-vector product for one sequence or a pair, each row read from storage once for all tokens. Every
     * (row, token) sum is computed the same way whatever n is and whichever rows share a call, so a batch of two
     * decodes exactly as two single decodes do. scratch holds at least {@link #DECODE_SCRATCH} rows.
     */
    void decode(int o0, int o1, float[] x, int n, float[] out, int ldo, float[] scratch) {
        decodeInPairs(o0, o1, cols, n, out, ldo, (rA, xA, rB, xB, two) -> dot2(rA, x, xA, rB, xB, two));
    }

    /** two[0] = row rA . x[xA..], two[1] = row rB . x[xB..] (a dtype's kernel computes both in one loop). */
    void dot2(int rA, float[] x, int xA, int rB, int xB, float[] two) {
        two[0] = dot(rA, x, xA);
        two[1] = dot(rB, x, xB);
    }

    /** {@link #dot} through {@link #dot2}, for the dtypes whose kernel is dot2: the same sum either way. */
    final float dotOfPair(int r, float[] x, int xOff) {
        float[] two = new float[2];
        dot2(r, x, xOff, r, xOff, two);
        return two[0];
    }

    /** Rows of scratch {@link #decode} may use. */
    static final int DECODE_SCRATCH = 2;

    /**
     * The pairing decode uses: with two tokens, each row against both; with one (or three), rows two at a time
     * against each token. pair(rA, xA, rB, xB, out2) writes row rA . x[xA..] and row rB . x[xB..] to out2[0], out2[1].
     */
    interface Pair {
        void dot2(int rA, int xA, int rB, int xB, float[] out2);
    }

    static void decodeInPairs(int o0, int o1, int cols, int n, float[] out, int ldo, Pair p) {
        float[] two = new float[2];
        if (n == 2) {
            for (int o = o0; o < o1; o++) {
                p.dot2(o, 0, o, cols, two);
                out[o] = two[0];
                out[ldo + o] = two[1];
            }
            return;
        }
        for (int t = 0; t < n; t++) {
            int xo = t * cols, oo = t * ldo;
            int o = o0;
            for (; o + 2 <= o1; o += 2) {
                p.dot2(o, xo, o + 1, xo, two);
                out[oo + o] = two[0];
                out[oo + o + 1] = two[1];
            }
            if (o < o1) {
                p.dot2(o, xo, o, xo, two);
                out[oo + o] = two[0];
            }
        }
    }

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
