package org.pairwise.model.engine;

import org.pairwise.accel.Backend;
import org.pairwise.accel.Tensor;

/** Per-layer key and value caches (B, maxT, KV*HS) for B sequences of up to maxT positions. */
public final class KvCache {
    final int batch;
    final int maxT;
    final Tensor[] k;
    final Tensor[] v;

    KvCache(Backend be, int layers, int batch, int maxT, int kvDim) {
        this.batch = batch;
        this.maxT = maxT;
        this.k = new Tensor[layers];
        this.v = new Tensor[layers];
        for (int l = 0; l < layers; l++) {
            k[l] = be.allocate((long) batch * maxT * kvDim);
            v[l] = be.allocate((long) batch * maxT * kvDim);
        }
    }

    public int batch() {
        return batch;
    }

    public int maxT() {
        return maxT;
    }
}
