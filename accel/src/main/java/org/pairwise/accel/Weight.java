package org.pairwise.accel;

/** A frozen matrix [rows, cols], row-major (HF's [out_features, in_features]), kept in its stored {@link DType}. */
public interface Weight {
    int rows();

    int cols();

    DType dtype();
}
