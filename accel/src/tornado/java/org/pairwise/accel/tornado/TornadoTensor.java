package org.pairwise.accel.tornado;

import org.pairwise.accel.Tensor;
import org.pairwise.accel.TensorView;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * An F32 tensor in an off-heap {@link FloatArray}: the host copy that kernels stage onto the device. A view of one
 * ({@link TensorView}) is its base from an offset: the residency bookkeeping tracks the base, the kernels that take
 * views get the offset.
 */
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

    /** A whole tensor, for the kernels that take no views. */
    static TornadoTensor of(Tensor t) {
        if (t instanceof TensorView v) {
            throw new IllegalArgumentException("this kernel takes whole tensors, not a " + v);
        }
        return base(t);
    }

    /** The tensor t is, or is a view of. */
    static TornadoTensor base(Tensor t) {
        if (TensorView.baseOf(t) instanceof TornadoTensor tt) {
            return tt;
        }
        throw new IllegalArgumentException("not a tornadovm tensor: " + t);
    }

    /** Where t starts in its base (0 for a whole tensor). */
    static int offset(Tensor t) {
        return Math.toIntExact(TensorView.offsetOf(t));
    }
}
