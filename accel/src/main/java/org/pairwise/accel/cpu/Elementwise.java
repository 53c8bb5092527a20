package org.pairwise.accel.cpu;

import static org.pairwise.accel.cpu.Vec.F;
import static org.pairwise.accel.cpu.Vec.L;

import jdk.incubator.vector.FloatVector;

/** SwiGLU, residual add, scale and the embedding lookup: kernels that touch each float once. */
final class Elementwise {
    private Elementwise() {}

    private static final int GRAIN = 1 << 14;

    // out (N,C) = silu(gate) * up
    static void swigluForward(Parallel par, float[] out, float[] gate, float[] up, int n) {
        par.forRange(n, GRAIN, 8L * n, (i0, i1) -> {
            int i = i0;
            for (int iEnd = i1 - L; i <= iEnd; i += L) {
                FloatVector g = FloatVector.fromArray(F, gate, i);
                FloatVector sig = Exp.sigmoid(g);
                g.mul(sig).mul(FloatVector.fromArray(F, up, i)).intoArray(out, i);
            }
            for (; i < i1; i++) {
                float g = gate[i];
                out[i] = g * Exp.sigmoid(g) * up[i];
            }
        });
    }

    // dgate += dout * up * sig * (1 + g * (1 - sig)); dup += dout * silu(g)
    static void swigluBackward(Parallel par, float[] dgate, float[] dup, float[] dout, float[] gate, float[] up, int n) {
        par.forRange(n, GRAIN, 12L * n, (i0, i1) -> {
            int i = i0;
            for (int iEnd = i1 - L; i <= iEnd; i += L) {
                FloatVector g = FloatVector.fromArray(F, gate, i);
                FloatVector d = FloatVector.fromArray(F, dout, i);
                FloatVector sig = Exp.sigmoid(g);
                FloatVector silu = g.mul(sig);
                if (dup != null) {
                    d.fma(silu, FloatVector.fromArray(F, dup, i)).intoArray(dup, i);
                }
                if (dgate != null) {
                    FloatVector dsilu = sig.mul(g.mul(sig.neg().add(1f)).add(1f));
                    d.mul(FloatVector.fromArray(F, up, i)).fma(dsilu, FloatVector.fromArray(F, dgate, i)).intoArray(dgate, i);
                }
            }
            for (; i < i1; i++) {
                float g = gate[i];
                float sig = Exp.sigmoid(g);
                // as the lanes above compute it, so a range's split between lanes and tail does not matter
                if (dup != null) {
                    dup[i] = Math.fma(dout[i], g * sig, dup[i]);
                }
                if (dgate != null) {
                    dgate[i] = Math.fma(dout[i] * up[i], sig * (g * (1f - sig) + 1f), dgate[i]);
                }
            }
        });
    }

    // out (n) += inp (n)
    static void add(Parallel par, float[] out, float[] inp, int n) {
        par.forRange(n, GRAIN, n, (i0, i1) -> {
            int i = i0;
            for (int iEnd = i1 - L; i <= iEnd; i += L) {
                FloatVector.fromArray(F, out, i).add(FloatVector.fromArray(F, inp, i)).intoArray(out, i);
            }
            for (; i < i1; i++) {
                out[i] += inp[i];
            }
        });
    }

    // x (n) *= s, x from off
    static void scale(Parallel par, float[] x, int off, float s, int n) {
        par.forRange(n, GRAIN, n, (i0, i1) -> Vec.scale(x, off + i0, i1 - i0, s));
    }

    // out (N,C) = table (V,C)[tokens[n]]
    static void embeddingForward(Parallel par, float[] out, int[] tokens, CpuWeight table, int N, int C) {
        if (table.cols != C) {
            throw new IllegalArgumentException("embedding table " + table + " does not have C=" + C + " columns");
        }
        par.forRange(N, 1, (long) N * C * 4, (n0, n1) -> {
            for (int n = n0; n < n1; n++) {
                table.rowTo(checkToken(tokens[n], table.rows), 0, C, out, n * C);
            }
        });
    }

    static int checkToken(int t, int V) {
        if (t < 0 || t >= V) {
            throw new IllegalArgumentException("token id " + t + " outside the vocabulary [0, " + V + ")");
        }
        return t;
    }
}
