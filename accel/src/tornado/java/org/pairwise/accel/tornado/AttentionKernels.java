package org.pairwise.accel.tornado;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Causal GQA attention. Query head h reads key/value head h / (NH/KV). B sequences, T new positions, maxT cache
 * length, NH query heads, KV key/value heads, HS head size, BNH = B*NH. The backward runs as three tasks of one
 * graph so that each writes disjoint floats: dS (scores gradient, device-only scratch), then dq, then dk and dv.
 */
final class AttentionKernels {
    private AttentionKernels() {}

    // q (B,T,NH,HS); k, v (B,maxT,KV,HS) valid for [0, pos0+T); out (B,T,NH,HS); att (B,NH,T,maxT) keeps the
    // probabilities for backward (zero past each causal row); params[at] = pos0
    static void forward(FloatArray out, FloatArray att, FloatArray q, FloatArray k, FloatArray v, IntArray params, int at,
                        float scale, int BNH, int T, int maxT, int NH, int KV, int HS) {
        for (@Parallel int bh = 0; bh < BNH; bh++) {
            for (@Parallel int t = 0; t < T; t++) {
                int pos0 = params.get(at);
                int b = bh / NH;
                int h = bh % NH;
                int kvh = h / (NH / KV);
                int len = pos0 + t + 1;
                int qi = ((b * T + t) * NH + h) * HS;
                int pOff = (bh * T + t) * maxT;
                float max = -3.4e38f;
                for (int s = 0; s < len; s++) {
                    int ki = ((b * maxT + s) * KV + kvh) * HS;
                    float x = 0f;
                    for (int d = 0; d < HS; d++) {
                        x += q.get(qi + d) * k.get(ki + d);
                    }
                    x *= scale;
                    att.set(pOff + s, x);
                    max = TornadoMath.max(max, x);
                }
                float sum = 0f;
                for (int s = 0; s < len; s++) {
                    float e = TornadoMath.exp(att.get(pOff + s) - max);
                    att.set(pOff + s, e);
                    sum += e;
                }
                float inv = 1f / sum;
                for (int s = 0; s < maxT; s++) {
                    att.set(pOff + s, s < len ? att.get(pOff + s) * inv : 0f);
                }
                for (int d = 0; d < HS; d++) {
                    float acc = 0f;
                    for (int s = 0; s < len; s++) {
                        acc += att.get(pOff + s) * v.get(((b * maxT + s) * KV + kvh) * HS + d);
                    }
                    out.set(qi + d, acc);
                }
            }
        }
    }

    // dS (B,NH,T,T) = P * (dP - sum_s P dP) * scale, with dP_s = dout_t . v_s; zero above the diagonal
    static void backwardScores(FloatArray dS, FloatArray dout, FloatArray att, FloatArray v, float scale,
                               int BNH, int T, int NH, int KV, int HS) {
        for (@Parallel int bh = 0; bh < BNH; bh++) {
            for (@Parallel int t = 0; t < T; t++) {
                int b = bh / NH;
                int h = bh % NH;
                int kvh = h / (NH / KV);
                int qi = ((b * T + t) * NH + h) * HS;
                int pOff = (bh * T + t) * T;
                float pdp = 0f;
                for (int s = 0; s < T; s++) {
                    float dp = 0f;
                    if (s <= t) {
                        int vi = ((b * T + s) * KV + kvh) * HS;
                        for (int d = 0; d < HS; d++) {
                            dp += dout.get(qi + d) * v.get(vi + d);
                        }
                        pdp += att.get(pOff + s) * dp;
                    }
                    dS.set(pOff + s, dp);
                }
                for (int s = 0; s < T; s++) {
                    dS.set(pOff + s, s <= t ? att.get(pOff + s) * (dS.get(pOff + s) - pdp) * scale : 0f);
                }
            }
        }
    }

    // dq (B,T,NH,HS) += sum over s <= t of dS[b,h,t,s] k[b,s,kvh]; BTNH = B*T*NH
    static void backwardQuery(FloatArray dq, FloatArray dS, FloatArray k, int BTNH, int T, int NH, int KV, int HS) {
        for (@Parallel int btn = 0; btn < BTNH; btn++) {
            for (@Parallel int d = 0; d < HS; d++) {
                int h = btn % NH;
                int bt = btn / NH;
                int b = bt / T;
                int t = bt % T;
                int kvh = h / (NH / KV);
                int pOff = ((b * NH + h) * T + t) * T;
                float acc = 0f;
                for (int s = 0; s <= t; s++) {
                    acc += dS.get(pOff + s) * k.get(((b * T + s) * KV + kvh) * HS + d);
                }
                dq.set(btn * HS + d, dq.get(btn * HS + d) + acc);
            }
        }
    }

    // dk, dv (B,T,KV,HS) += sums over the group's heads and t >= s of dS q and P dout; BTKV = B*T*KV
    static void backwardKeyValue(FloatArray dk, FloatArray dv, FloatArray dS, FloatArray att, FloatArray q,
                                 FloatArray dout, int BTKV, int T, int NH, int KV, int HS) {
        for (@Parallel int bsk = 0; bsk < BTKV; bsk++) {
            for (@Parallel int d = 0; d < HS; d++) {
                int kvh = bsk % KV;
                int bs = bsk / KV;
                int b = bs / T;
                int s = bs % T;
                int group = NH / KV;
                float ak = 0f;
                float av = 0f;
                for (int h = kvh * group; h < (kvh + 1) * group; h++) {
                    for (int t = s; t < T; t++) {
                        int p = ((b * NH + h) * T + t) * T + s;
                        int qi = ((b * T + t) * NH + h) * HS + d;
                        ak += dS.get(p) * q.get(qi);
                        av += att.get(p) * dout.get(qi);
                    }
                }
                dk.set(bsk * HS + d, dk.get(bsk * HS + d) + ak);
                dv.set(bsk * HS + d, dv.get(bsk * HS + d) + av);
            }
        }
    }
}
