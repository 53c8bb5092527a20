package org.pairwise.accel.tornado;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.pairwise.accel.Backend;
import org.pairwise.accel.BackendConformance;
import org.pairwise.accel.Backends;
import org.pairwise.accel.DType;
import org.pairwise.accel.Tensor;
import org.pairwise.accel.Weight;

/** The conformance suite on TornadoVM's default device (PoCL's CPU device here), plus its transfer accounting. */
class TornadoConformanceTest extends BackendConformance {
    @Override
    protected Backend open() {
        Backend b = Backends.open("tornadovm", 2);
        System.out.println("tornadovm conformance on " + ((TornadoBackend) b).device());
        return b;
    }

    @Test
    void frozenWeightsCrossOnceAndEveryCopyIsCounted() {
        TornadoBackend b = (TornadoBackend) backend();
        int N = 3, C = 11, OC = 5;
        Random r = new Random(20);
        Weight w = b.weight(store(random(r, OC * C, 1), DType.F32), DType.F32, OC, C);
        Tensor x = b.upload(random(r, N * C, 1)), bias = b.upload(random(r, OC, 1)), out = b.allocate(N * OC);
        Transfers.Snapshot t0 = b.transfers();
        b.matmulForward(out, x, w, bias, N, C, OC);
        Transfers.Snapshot first = b.transfers().minus(t0);
        b.matmulForward(out, x, w, bias, N, C, OC);
        Transfers.Snapshot second = b.transfers().minus(t0).minus(first);
        // first run: input, bias and the weight go down, the output comes back; later runs leave the weight there
        assertEquals(new Transfers.Snapshot(3, 1, 4L * (N * C + OC + OC * C), 4L * N * OC, 1), first);
        assertEquals(new Transfers.Snapshot(2, 1, 4L * (N * C + OC), 4L * N * OC, 1), second);
    }
}
