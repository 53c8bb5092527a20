package org.pairwise.accel.cpu;

import org.pairwise.accel.RopeTable;

/**
 * Plain scalar double-precision versions of every forward kernel, written from the formulas and independent of the
 * backend's code. Backward kernels are checked against central differences of these.
 */
final class Reference {
    private Reference() {}

    static double[] matmul(double[] x, double[] w, double[] bias, int N, int C, int OC) {
        double[] out = new double[N * OC];
        for (int n = 0; n < N; n++) {
            for (int o = 0; o < OC; o++) {
                double s = bias == null ? 0 : bias[o];
                for (int c = 0; c < C; c++) {
                    s += x[n * C + c] * w[o * C + c];
                }
                out[n * OC + o] = s;
            }
        }
        return out;
    }

    static double[] rmsnorm(double[] x, double[] w, double eps, int N, int C, double[] rstdOut) {
        double[] out = new double[N * C];
        for (int n = 0; n < N; n++) {
            double ss = 0;
            for (int c = 0; c < C; c++) {
                ss += x[n * C + c] * x[n * C + c];
            }
            double r = 1 / Math.sqrt(ss / C + eps);
            if (rstdOut != null) {
                rstdOut[n] = r;
            }
            for (int c = 0; c < C; c++) {
                out[n * C + c] = x[n * C + c] * r * w[c];
            }
        }
        return out;
    }

    /** Rotary embedding from its definition: frequencies theta^(-2i/rd) computed here, not read from the table. */
    static double[] rope(double[] x, int[] pos, RopeTable.Pairing pairing, int rd, double theta, int N, int H, int HS) {
        double[] out = x.clone();
        for (int n = 0; n < N; n++) {
            for (int h = 0; h < H; h++) {
                int base = (n * H + h) * HS;
                for (int i = 0; i < rd / 2; i++) {
                    double ang = pos[n] * Math.pow(theta, -2.0 * i / rd);
                    int a = pairing == RopeTable.Pairing.ADJACENT ? base + 2 * i : base + i;
                    int b = pairing == RopeTable.Pairing.ADJACENT ? a + 1 : a + rd / 2;
                    out[a] = x[a] * Math.cos(ang) - x[b] * Math.sin(ang);
                    out[b] = x[a] * Math.sin(ang) + x[b] * Math.cos(ang);
                }
            }
        }
        return out;
    }

    /** Causal GQA attention; q (B,T,NH,HS), caches (B,maxT,KV,HS); probs (B,NH,T,maxT) filled when not null. */
    static double[] attention(double[] q, double[] k, double[] v, int B, int T, int pos0, int maxT, int NH, int KV,
                              int HS, double[] probs) {
        double[] out = new double[B * T * NH * HS];
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < NH; h++) {
                int kh = h / (NH / KV);
                for (int t = 0; t < T; t++) {
                    int len = pos0 + t + 1;
                    double[] s = new double[len];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < len; j++) {
                        double d = 0;
                        for (int e = 0; e < HS; e++) {
                            d += q[((b * T + t) * NH + h) * HS + e] * k[((b * maxT + j) * KV + kh) * HS + e];
                        }
                        s[j] = d / Math.sqrt(HS);
                        max = Math.max(max, s[j]);
                    }
                    double z = 0;
                    for (int j = 0; j < len; j++) {
                        s[j] = Math.exp(s[j] - max);
                        z += s[j];
                    }
                    for (int j = 0; j < len; j++) {
                        double p = s[j] / z;
                        if (probs != null) {
                            probs[((b * NH + h) * T + t) * maxT + j] = p;
                        }
                        for (int e = 0; e < HS; e++) {
                            out[((b * T + t) * NH + h) * HS + e] += p * v[((b * maxT + j) * KV + kh) * HS + e];
                        }
                    }
                }
            }
        }
        return out;
    }

    static double[] swiglu(double[] gate, double[] up) {
        double[] out = new double[gate.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
        }
        return out;
    }

    /** Full (N,V) log-softmax, materialised. */
    static double[][] logSoftmax(double[] h, double[] w, int N, int C, int V) {
        double[] logits = matmul(h, w, null, N, C, V);
        double[][] out = new double[N][V];
        for (int n = 0; n < N; n++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < V; v++) {
                max = Math.max(max, logits[n * V + v]);
            }
            double z = 0;
            for (int v = 0; v < V; v++) {
                z += Math.exp(logits[n * V + v] - max);
            }
            for (int v = 0; v < V; v++) {
                out[n][v] = logits[n * V + v] - max - Math.log(z);
            }
        }
        return out;
    }

    static double[] logits(double[] h, double[] w, int N, int C, int V) {
        return matmul(h, w, null, N, C, V);
    }
}
