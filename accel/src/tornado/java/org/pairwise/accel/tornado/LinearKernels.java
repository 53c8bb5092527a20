package org.pairwise.accel.tornado;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Device kernels that are matrix products or row reductions: matmul, RMSNorm, embedding lookup. One work-item per output
 * element (or per row, where a row reduction feeds the row), so no two work-items write the same float and no atomics
 * are needed. Shapes: N rows, C in-features, OC out-features, V vocabulary rows.
 */
final class LinearKernels {
    private LinearKernels() {}

    // out (N,OC) = inp (N,C) @ w (OC,C)^T + bias (OC) when useBias != 0 (bias is a 1-float dummy otherwise); w from
    // wOff (a LoRA matrix in an adapter's flat buffer; 0 for a frozen weight)
    static void matmulForward(FloatArray out, FloatArray inp, FloatArray w, int wOff, FloatArray bias, int useBias,
                              int N, int C, int OC) {
        for (@Parallel int n = 0; n < N; n++) {
            for (@Parallel int o = 0; o < OC; o++) {
                float acc = 0f;
                int ib = n * C;
                int wb = wOff + o * C;
                for (int c = 0; c < C; c++) {
                    acc += inp.get(ib + c) * w.get(wb + c);
                }
                if (useBias != 0) {
                    acc += bias.get(o);
                }
                out.set(n * OC + o, acc);
            }
        }
    }

    // dinp (N,C) += dout (N,OC) @ w (OC,C), w from wOff
    static void matmulBackwardInput(FloatArray dinp, FloatArray dout, FloatArray w, int wOff, int N, int C, int OC) {
        for (@Parallel int n = 0; n < N; n++) {
            for (@Parallel int c = 0; c < C; c++) {
                float acc = 0f;
                for (int o = 0; o < OC; o++) {
                    acc += dout.get(n * OC + o) * w.get(wOff + o * C + c);
                }
                dinp.set(n * C + c, dinp.get(n * C + c) + acc);
            }
        }
    }

    // dbias (OC) += column sums of dout (N,OC)
    static void matmulBackwardBias(FloatArray dbias, FloatArray dout, int N, int OC) {
        for (@Parallel int o = 0; o < OC; o++) {
            float acc = 0f;
            for (int n = 0; n < N; n++) {
                acc += dout.get(n * OC + o);
            }
            dbias.set(o, dbias.get(o) + acc);
        }
    }

    // dw (OC,C) += dout (N,OC)^T @ inp (N,C), dw from dwOff (a gradient in a flat buffer)
    static void matmulBackwardWeight(FloatArray dw, int dwOff, FloatArray dout, FloatArray inp, int N, int C, int OC) {
        for (@Parallel int o = 0; o < OC; o++) {
            for (@Parallel int c = 0; c < C; c++) {
                float acc = 0f;
                for (int n = 0; n < N; n++) {
                    acc += dout.get(n * OC + o) * inp.get(n * C + c);
                }
                int i = dwOff + o * C + c;
                dw.set(i, dw.get(i) + acc);
            }
        }
    }

    // out (N,C) = inp * rstd * w; rstd (N) = 1/sqrt(mean(inp^2) + eps), cached for backward. One work-item per row.
    static void rmsnormForward(FloatArray out, FloatArray rstd, FloatArray inp, FloatArray w, float eps, int N, int C) {
        for (@Parallel int n = 0; n < N; n++) {
            int o = n * C;
            float ss = 0f;
            for (int c = 0; c < C; c++) {
                float x = inp.get(o + c);
                ss += x * x;
            }
            float r = 1f / TornadoMath.sqrt(ss / C + eps);
            rstd.set(n, r);
            for (int c = 0; c < C; c++) {
                out.set(o + c, inp.get(o + c) * r * w.get(c));
            }
        }
    }

    // dinp (N,C) += rstd * w*dout - inp * rstd^3 * mean(w*dout*inp)
    static void rmsnormBackwardInput(FloatArray dinp, FloatArray dout, FloatArray inp, FloatArray rstd, FloatArray w,
                                     int N, int C) {
        for (@Parallel int n = 0; n < N; n++) {
            int o = n * C;
            float r = rstd.get(n);
            float dot = 0f;
            for (int c = 0; c < C; c++) {
                dot += dout.get(o + c) * w.get(c) * inp.get(o + c);
            }
            float k = r * r * r * dot / C;
            for (int c = 0; c < C; c++) {
                dinp.set(o + c, dinp.get(o + c) + dout.get(o + c) * w.get(c) * r - k * inp.get(o + c));
            }
        }
    }

    // dw (C) += sum over n of dout * inp * rstd; one work-item per column since every row adds into the same dw
    static void rmsnormBackwardWeight(FloatArray dw, FloatArray dout, FloatArray inp, FloatArray rstd, int N, int C) {
        for (@Parallel int c = 0; c < C; c++) {
            float acc = 0f;
            for (int n = 0; n < N; n++) {
                acc += dout.get(n * C + c) * inp.get(n * C + c) * rstd.get(n);
            }
            dw.set(c, dw.get(c) + acc);
        }
    }

    // out (N,C) = table (V,C)[tokens[at + n]], table from tOff (token ids are checked on the host)
    static void embeddingForward(FloatArray out, IntArray tokens, int at, FloatArray table, int tOff, int N, int C) {
        for (@Parallel int n = 0; n < N; n++) {
            for (@Parallel int c = 0; c < C; c++) {
                out.set(n * C + c, table.get(tOff + tokens.get(at + n) * C + c));
            }
        }
    }
}
