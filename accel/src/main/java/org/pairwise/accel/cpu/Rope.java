package org.pairwise.accel.cpu;

import org.pairwise.accel.RopeTable;

/** Rotary position embedding: rotates the first rotaryDim dims of every head by position-dependent angles. */
final class Rope {
    private Rope() {}

    // x (N,H,HS) in place; sign = +1 rotates forward, -1 applies the transpose (backward)
    static void rotate(Parallel par, float[] x, int[] positions, RopeTable rope, int N, int H, int HS, float sign) {
        int rd = rope.rotaryDim();
        if (rd > HS || rd % 2 != 0) {
            throw new IllegalArgumentException("rotaryDim " + rd + " must be even and <= HS " + HS);
        }
        int half = rd / 2;
        // ADJACENT pairs (2i, 2i+1); HALVES pairs (i, i + rd/2)
        int stride = rope.pairing() == RopeTable.Pairing.ADJACENT ? 2 : 1;
        int partner = rope.pairing() == RopeTable.Pairing.ADJACENT ? 1 : half;
        float[] cos = rope.cos(), sin = rope.sin();
        par.forRange(N, 1, 6L * N * H * rd, (n0, n1) -> {
            for (int n = n0; n < n1; n++) {
                int pos = positions[n];
                if (pos < 0 || pos >= rope.maxPos()) {
                    throw new IllegalArgumentException("position " + pos + " outside the rope table [0, " + rope.maxPos() + ")");
                }
                int t = pos * half;
                for (int h = 0; h < H; h++) {
                    int base = (n * H + h) * HS;
                    for (int i = 0; i < half; i++) {
                        int a = base + i * stride, b = a + partner;
                        float c = cos[t + i], s = sign * sin[t + i];
                        float x0 = x[a], x1 = x[b];
                        x[a] = x0 * c - x1 * s;
                        x[b] = x0 * s + x1 * c;
                    }
                }
            }
        });
    }
}
