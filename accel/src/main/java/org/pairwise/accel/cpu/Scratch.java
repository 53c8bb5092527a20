package org.pairwise.accel.cpu;

import java.util.ArrayList;
import java.util.List;

/**
 * Float buffers lent to kernels for one call and given back after it. The prefill matmul's packed tokens and each
 * piece's block buffers, allocated afresh, were several GB of garbage per DPO step at the 0.5B shape: the heap grew to
 * 7.5 GB around 2.5 GB live, and the process paid for the fresh pages in system time. The pool holds at most as many
 * buffers as were out at once; a buffer too small for a request is dropped for a bigger one. A lent buffer holds
 * whatever its last user left: kernels write before they read.
 */
final class Scratch {
    private final List<float[]> free = new ArrayList<>();

    /** A buffer of at least n floats, its contents unspecified. */
    synchronized float[] take(int n) {
        int best = -1, largest = -1;
        for (int i = 0; i < free.size(); i++) {
            int len = free.get(i).length;
            if (len >= n && (best < 0 || len < free.get(best).length)) {
                best = i;
            }
            if (largest < 0 || len > free.get(largest).length) {
                largest = i;
            }
        }
        if (best >= 0) {
            return free.remove(best);
        }
        if (largest >= 0) {
            free.remove(largest);
        }
        return new float[n];
    }

    /** Returns a buffer taken from this pool. */
    synchronized void give(float[] a) {
        free.add(a);
    }
}
