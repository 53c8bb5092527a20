package org.pairwise.accel.tornado;

import org.pairwise.accel.Tensor;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/** An F32 tensor in an off-heap {@link FloatArray}: the host copy that kernels stage onto the device. */
final class TornadoTensor implements Tensor {
    final FloatArray data;
    private final long size;

    TornadoTensor(long size) {
        this.size = size;
        // TornadoVM cannot allocate an empty array; a zero-length tensor keeps one float nobody reads.
        this.data = new FloatArray(Math.toIntExact(Math.max(1, size)));
    }

    @Override
    public long size() {
        return size;
    }

    static TornadoTensor of(Tensor t) {
        if (t instanceof TornadoTensor tt) {
            return tt;
        }
        throw new IllegalArgumentException("not a tornadovm tensor: " + t);
    }
}
