package org.pairwise.accel;

import java.lang.foreign.MemorySegment;

/**
 * A compute backend: it allocates and owns buffers and runs the {@link Kernels} over them. Host copies are explicit
 * ({@link #upload}, {@link #download}) so that a device backend keeps tensors resident between kernel calls.
 *
 * <p>Views ({@link #view}): the calls that take a parameter, a gradient or an optimizer moment take a view of a flat
 * buffer wherever they take a tensor: {@link #upload}, {@link #download}, {@link #copy}, {@link #zero},
 * {@link #weightOf}, {@link #matmulBackwardWeight}'s dw, {@link #scale}, {@link #adamwUpdate} and
 * {@link #sumOfSquares}. Every other kernel rejects a view. A call that writes a view takes no other tensor of its
 * buffer ({@link TensorView#requireSeparate}: a device backend passes each buffer to a kernel once); only copy may
 * copy within one buffer, overlapping or not, as System.arraycopy does.
 */
public interface Backend extends Kernels, AutoCloseable {
    String name();

    /** A zeroed F32 tensor of {@code n} floats. */
    Tensor allocate(long n);

    /**
     * Floats [offset, offset + size) of base as a tensor of their own (see {@link TensorView}); a view of a view is a
     * view of its base.
     */
    default Tensor view(Tensor base, long offset, long size) {
        Tensor.checkRange(base, offset, size);
        return new TensorView(TensorView.baseOf(base), TensorView.offsetOf(base) + offset, size);
    }

    /** Copies {@code n} host floats from {@code src[srcOff..]} into {@code dst[dstOff..]}. */
    void upload(Tensor dst, long dstOff, float[] src, int srcOff, int n);

    /** Copies {@code n} floats from {@code src[srcOff..]} into the host array {@code dst[dstOff..]}. */
    void download(Tensor src, long srcOff, float[] dst, int dstOff, int n);

    /** Device-side copy of {@code n} floats between (or within) tensors. */
    void copy(Tensor dst, long dstOff, Tensor src, long srcOff, long n);

    /** Sets every float of {@code t} to zero (gradients are zeroed explicitly, then accumulated). */
    void zero(Tensor t);

    /**
     * A frozen weight [rows, cols] over {@code data} in its stored dtype. The segment must stay alive as long as the
     * weight (a memory-mapped file's arena, say); a host backend may use it without copying.
     */
    Weight weight(MemorySegment data, DType dtype, int rows, int cols);

    /** A weight view [rows, cols] of an F32 tensor (a trainable LoRA matrix, say): it sees later updates. */
    Weight weightOf(Tensor t, int rows, int cols);

    /** Uploads a host array as a new tensor. */
    default Tensor upload(float[] src) {
        Tensor t = allocate(src.length);
        upload(t, 0, src, 0, src.length);
        return t;
    }

    /** Downloads a whole tensor to a new host array. */
    default float[] download(Tensor t) {
        float[] out = new float[Math.toIntExact(t.size())];
        download(t, 0, out, 0, out.length);
        return out;
    }

    @Override
    void close();
}
