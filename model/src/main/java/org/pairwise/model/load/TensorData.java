package org.pairwise.model.load;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.pairwise.accel.DType;

/** One stored tensor: its canonical (HF) name, dtype, shape (outermost first, HF order) and bytes, often memory-mapped. */
public record TensorData(String name, DType dtype, long[] shape, MemorySegment data) {

    public long numel() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** rows = shape[0], or 1 for a vector. */
    public int rows() {
        return shape.length == 1 ? 1 : Math.toIntExact(shape[0]);
    }

    /** cols = the innermost dimension. */
    public int cols() {
        return Math.toIntExact(shape[shape.length - 1]);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + Arrays.toString(shape);
    }
}
