package org.pairwise.accel.cpu;

/**
 * Causal grouped-query attention. Query head h reads key/value head h / (NH/KV), as transformers' repeat_kv.
 * Forward is parallel over (b, h); backward over (b, kv head), since the heads of a group add into the same dk, dv.
 */
final class Attention {
    private Attention() {}

    // q (B,T,NH,HS); kc, vc (B,maxT,KV,HS) valid for [0, pos0+T); out (B,T,NH,HS); att (B,NH,T,maxT) or null
    static void forward(Parallel par, float[] out, float[] att, float[] q, float[] kc, float[] vc,
                        int B, int T, int pos0, int maxT, int NH, int KV, int HS) {
        if (pos0 + T > maxT) {
            throw new IllegalArgumentException("pos0 + T = " + (pos0 + T) + " exceeds maxT = " + maxT);
        }
        int group = NH / KV;
        float scale = (float) (1.0 / Math.sqrt(HS));
        long work = 4L * B * NH * T * (pos0 + T) * HS;
        par.forRange(B * NH, 1, work, (t0, t1) -> {
            float[] p = att == null ? new float[pos0 + T] : null;
            for (int bh = t0; bh < t1; bh++) {
                int b = bh / NH, h = bh % NH, kvh = h / group;
                for (int t = 0; t < T; t++) {
                    int len = pos0 + t + 1;
                    int qi = ((b * T + t) * NH + h) * HS;
                    float[] pr = att != null ? att : p;
                    int pOff = att != null ? ((b * NH + h) * T + t) * maxT : 0;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int s = 0; s < len; s++) {
                        float x = Vec.dot(q, qi, kc, ((b * maxT + s) * KV + kvh) * HS, HS) * scale;
                        pr[pOff + s] = x;
                        max = Math.max(max, x);
                    }
                    float inv = 1f / Vec.expShifted(pr, pOff, len, max);
                    Vec.scale(pr, pOff, len, inv);
                    if (att != null) {
                        java.util.Arrays.fill(att, pOff + len, pOff + maxT, 0f);
                    }
                    java.util.Arrays.fill(out, qi, qi + HS, 0f);
                    for (int s = 0; s < len; s++) {
                        Vec.axpy(pr[pOff + s], vc, ((b * maxT + s) * KV + kvh) * HS, out, qi, HS);
                    }
                }
            }
        });
    }

    // dq (B,T,NH,HS), dk, dv (B,T,KV,HS) += ...; dout (B,T,NH,HS); att (B,NH,T,T); pos0 = 0, maxT = T
    static void backward(Parallel par, float[] dq, float[] dk, float[] dv, float[] dout, float[] att,
                         float[] q, float[] k, float[] v, int B, int T, int NH, int KV, int HS) {
        int group = NH / KV;
        float scale = (float) (1.0 / Math.sqrt(HS));
        long work = 8L * B * NH * T * T * HS;
        par.forRange(B * KV, 1, work, (t0, t1) -> {
            float[] dp = new float[T];
            for (int bk = t0; bk < t1; bk++) {
                int b = bk / KV, kvh = bk % KV;
                for (int h = kvh * group; h < (kvh + 1) * group; h++) {
                    for (int t = 0; t < T; t++) {
                        int qi = ((b * T + t) * NH + h) * HS;
                        int pOff = ((b * NH + h) * T + t) * T;
                        // dP_s = dout_t . v_s; dv_s += P_s dout_t; dS_s = P_s (dP_s - sum_s' P_s' dP_s')
                        float pdp = 0f;
                        for (int s = 0; s <= t; s++) {
                            int kvi = ((b * T + s) * KV + kvh) * HS;
                            float pts = att[pOff + s];
                            dp[s] = Vec.dot(dout, qi, v, kvi, HS);
                            pdp += pts * dp[s];
                            Vec.axpy(pts, dout, qi, dv, kvi, HS);
                        }
                        for (int s = 0; s <= t; s++) {
                            int kvi = ((b * T + s) * KV + kvh) * HS;
                            float ds = att[pOff + s] * (dp[s] - pdp) * scale;
                            Vec.axpy(ds, k, kvi, dq, qi, HS);
                            Vec.axpy(ds, q, qi, dk, kvi, HS);
                        }
                    }
                }
            }
        });
    }
}
