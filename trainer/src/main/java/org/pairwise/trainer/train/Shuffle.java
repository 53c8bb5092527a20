package org.pairwise.trainer.train;

import java.util.SplittableRandom;

/** The data order of an epoch: a Fisher-Yates shuffle seeded by (seed, epoch), so a resumed run sees the same order. */
final class Shuffle {
    private Shuffle() {}

    static int[] permutation(int n, long seed, int epoch) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        SplittableRandom rng = new SplittableRandom(seed * 1_000_003L + epoch);
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
