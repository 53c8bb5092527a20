package org.pairwise.accel;

/**
 * A backend-owned F32 buffer (activations, gradients, trainable parameters), or a {@link TensorView} of one. Copies to
 * and from the host are explicit.
 */
public interface Tensor {
    /** Number of floats. */
    long size();

    /** Checks that floats [off, off + n) lie inside t (the one bounds check of copies and views). */
    static void checkRange(Tensor t, long off, long n) {
        if (off < 0 || n < 0 || off + n > t.size()) {
            throw new IndexOutOfBoundsException("[" + off + ", " + (off + n) + ") outside a tensor of " + t.size()
                    + " floats");
        }
    }
}
