package org.pairwise.accel.tornado;

import java.util.Arrays;
import org.pairwise.accel.RopeTable;
import org.pairwise.accel.Tensor;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/** The calls of {@link AttentionKernels} and the rotary embedding as {@link Op}s (see {@link LinearCalls}). */
final class AttentionCalls {
    private AttentionCalls() {}

    /** x (N,H,HS) rotated by the table (cos, sin as device arrays, one pair per RopeTable); sign -1 rotates back. */
    static Op rope(Tensor x, int[] positions, RopeTable rope, FloatArray[] table, int N, int H, int HS, float sign) {
        int rd = rope.rotaryDim();
        if (rd > HS || rd % 2 != 0) {
            throw new IllegalArgumentException("rotaryDim " + rd + " must be even and <= HS " + HS);
        }
        for (int n = 0; n < N; n++) {
            if (positions[n] < 0 || positions[n] >= rope.maxPos()) {
                throw new IllegalArgumentException("position " + positions[n] + " outside the rope table [0, "
                        + rope.maxPos() + ")");
            }
        }
        int half = rd / 2;
        if (N == 0 || H == 0 || half == 0) {
            return null;
        }
        // ADJACENT pairs (2i, 2i+1); HALVES pairs (i, i + rd/2); both follow from the table, which is in the key
        boolean adjacent = rope.pairing() == RopeTable.Pairing.ADJACENT;
        int stride = adjacent ? 2 : 1, partner = adjacent ? 1 : half;
        return new Op("rope", N, H, HS, sign).update(x, (long) N * H * HS).constant(table[0]).constant(table[1])
                .ints(Arrays.copyOf(positions, N)).tasks(1, (g, id, a) -> g.task(id, PointwiseKernels::rope, a.of(x),
                        a.ints(), a.intsAt(), table[0], table[1], sign, N, H, HS, half, stride, partner));
    }

    static Op forward(Tensor out, Tensor att, Tensor q, Tensor kCache, Tensor vCache, int B, int T, int pos0,
                      int maxT, int NH, int KV, int HS) {
        if (pos0 + T > maxT) {
            throw new IllegalArgumentException("pos0 + T = " + (pos0 + T) + " exceeds maxT = " + maxT);
        }
        if (B == 0 || T == 0) {
            return null;
        }
        boolean keep = att != null;
        float scale = (float) (1.0 / Math.sqrt(HS));
        long nq = (long) B * T * NH * HS, nkv = (long) B * maxT * KV * HS, np = (long) B * NH * T * maxT;
        Op o = new Op("attentionForward", B, T, maxT, NH, KV, HS, keep).read(q, nq).read(kCache, nkv).read(vCache, nkv)
                .write(out, nq).ints(new int[] {pos0});
        if (keep) {
            o.write(att, np);
        }
        // without att, the probabilities live in device-only scratch
        return o.tasks(1, (g, id, a) -> g.task(id, AttentionKernels::forward, a.of(out),
                keep ? a.of(att) : a.scratch(np), a.of(q), a.of(kCache), a.of(vCache), a.ints(), a.intsAt(), scale,
                B * NH, T, maxT, NH, KV, HS));
    }

    static Op backward(Tensor dq, Tensor dk, Tensor dv, Tensor dout, Tensor att, Tensor q, Tensor k, Tensor v,
                       int B, int T, int NH, int KV, int HS) {
        if (B == 0 || T == 0) {
            return null;
        }
        float scale = (float) (1.0 / Math.sqrt(HS));
        int nq = B * T * NH * HS, nkv = B * T * KV * HS, np = B * NH * T * T;
        return new Op("attentionBackward", B, T, NH, KV, HS).read(dout, nq).read(att, np).read(q, nq).read(k, nkv)
                .read(v, nkv).update(dq, nq).update(dk, nkv).update(dv, nkv).tasks(3, (g, id, a) -> {
                    FloatArray dS = a.scratch(np);
                    g.task(id + "s", AttentionKernels::backwardScores, dS, a.of(dout), a.of(att), a.of(v), scale,
                                    B * NH, T, NH, KV, HS)
                            .task(id + "q", AttentionKernels::backwardQuery, a.of(dq), dS, a.of(k), B * T * NH, T, NH,
                                    KV, HS)
                            .task(id + "kv", AttentionKernels::backwardKeyValue, a.of(dk), a.of(dv), dS, a.of(att),
                                    a.of(q), a.of(dout), B * T * KV, T, NH, KV, HS);
                });
    }
}
