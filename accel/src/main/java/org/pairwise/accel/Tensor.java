package org.pairwise.accel;

/** A backend-owned F32 buffer (activations, gradients, trainable parameters). Copies to and from the host are explicit. */
public interface Tensor {
    /** Number of floats. */
    long size();
}
