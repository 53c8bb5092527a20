package org.pairwise.accel;

import java.lang.foreign.MemorySegment;

/** Storage types of frozen weights. Everything is computed in F32; Q8_0 is llama.cpp's block format. */
public enum DType {
    F32(4, 1),
    F16(2, 1),
    BF16(2, 1),
    /** Blocks of 32 values: one F16 scale then 32 signed bytes (34 bytes a block). */
    Q8_0(34, 32);

    /** Bytes per block. */
    public final int blockBytes;
    /** Values per block. */
    public final int blockSize;

    DType(int blockBytes, int blockSize) {
        this.blockBytes = blockBytes;
        this.blockSize = blockSize;
    }

    /** Bytes taken by {@code n} values (n a multiple of the block size). */
    public long bytesFor(long n) {
        if (n % blockSize != 0) {
            throw new IllegalArgumentException(this + " needs a multiple of " + blockSize + " values, got " + n);
        }
        return n / blockSize * blockBytes;
    }

    /** Checks that data holds a [rows, cols] matrix stored as this type (what every backend's weight() needs). */
    public void checkMatrix(MemorySegment data, int rows, int cols) {
        if (this == Q8_0 && cols % blockSize != 0) {
            throw new IllegalArgumentException("Q8_0 rows must hold whole blocks of 32, got cols=" + cols);
        }
        long need = bytesFor((long) rows * cols);
        if (data.byteSize() < need) {
            throw new IllegalArgumentException(this + " [" + rows + "x" + cols + "] needs " + need + " bytes, segment has "
                    + data.byteSize());
        }
    }
}
