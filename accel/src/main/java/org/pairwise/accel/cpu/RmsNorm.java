package org.pairwise.accel.cpu;

import static org.pairwise.accel.cpu.Vec.F;
import static org.pairwise.accel.cpu.Vec.L;

import jdk.incubator.vector.FloatVector;

/** RMSNorm forward/backward over rows of C. */
final class RmsNorm {
    private RmsNorm() {}

    // out (N,C) = inp * rstd * w; rstd (N) cached for backward
    static void forward(Parallel par, float[] out, float[] rstd, float[] inp, float[] w, float eps, int N, int C) {
        par.forRange(N, 1, 4L * N * C, (n0, n1) -> {
            for (int n = n0; n < n1; n++) {
                int o = n * C;
                float r = (float) (1.0 / Math.sqrt(Vec.dot(inp, o, inp, o, C) / C + eps));
                rstd[n] = r;
                int c = 0;
                for (int cEnd = C - L; c <= cEnd; c += L) {
                    FloatVector.fromArray(F, inp, o + c).mul(r).mul(FloatVector.fromArray(F, w, c)).intoArray(out, o + c);
                }
                for (; c < C; c++) {
                    out[o + c] = inp[o + c] * r * w[c];
                }
            }
        });
    }

    // dinp (N,C) += rstd * (w*dout - inp * rstd^2 * mean(w*dout*inp)); dw (C) += sum over n of dout*inp*rstd
    static void backward(Parallel par, float[] dinp, float[] dw, float[] dout, float[] inp, float[] rstd, float[] w,
                         int N, int C) {
        if (dinp != null) {
            par.forRange(N, 1, 8L * N * C, (n0, n1) -> {
                for (int n = n0; n < n1; n++) {
                    int o = n * C;
                    float r = rstd[n];
                    FloatVector acc = FloatVector.zero(F);
                    int c = 0;
                    for (int cEnd = C - L; c <= cEnd; c += L) {
                        acc = FloatVector.fromArray(F, dout, o + c).mul(FloatVector.fromArray(F, w, c))
                                .fma(FloatVector.fromArray(F, inp, o + c), acc);
                    }
                    float dot = Vec.sumLanes(acc);
                    for (; c < C; c++) {
                        dot += dout[o + c] * w[c] * inp[o + c];
                    }
                    float k = r * r * r * dot / C;
                    c = 0;
                    for (int cEnd = C - L; c <= cEnd; c += L) {
                        FloatVector g = FloatVector.fromArray(F, dout, o + c).mul(FloatVector.fromArray(F, w, c)).mul(r);
                        g = FloatVector.fromArray(F, inp, o + c).mul(-k).add(g);
                        g.add(FloatVector.fromArray(F, dinp, o + c)).intoArray(dinp, o + c);
                    }
                    for (; c < C; c++) {
                        dinp[o + c] += dout[o + c] * w[c] * r - k * inp[o + c];
                    }
                }
            });
        }
        if (dw != null) {
            // Columns, not rows, are split here: every row adds into the same dw.
            par.forRange(C, 64, 3L * N * C, (c0, c1) -> {
                for (int n = 0; n < N; n++) {
                    int o = n * C;
                    float r = rstd[n];
                    int c = c0;
                    for (int cEnd = c1 - L; c <= cEnd; c += L) {
                        FloatVector.fromArray(F, dout, o + c).mul(FloatVector.fromArray(F, inp, o + c))
                                .fma(FloatVector.broadcast(F, r), FloatVector.fromArray(F, dw, c)).intoArray(dw, c);
                    }
                    for (; c < c1; c++) {
                        dw[c] = Math.fma(dout[o + c] * inp[o + c], r, dw[c]);
                    }
                }
            });
        }
    }
}
