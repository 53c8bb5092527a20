package org.pairwise.accel;

import java.util.ArrayList;
import java.util.List;

/**
 * Floats [offset, offset + size) of a backend tensor, as a tensor of its own: how one flat buffer holds every
 * parameter of an adapter (llm.c's params_memory, with a pointer per parameter), and its gradients and optimizer
 * moments likewise. Made by {@link Backend#view}, never a view of a view. Only the calls that take parameters,
 * gradients or moments take views (see {@link Backend#view}); every other kernel rejects them.
 */
public record TensorView(Tensor base, long offset, long size) implements Tensor {
    public TensorView {
        if (base instanceof TensorView) {
            throw new IllegalArgumentException("a view of a view: view the base tensor");
        }
        Tensor.checkRange(base, offset, size);
    }

    /** The tensor t is a view of, or t itself. */
    public static Tensor baseOf(Tensor t) {
        return t instanceof TensorView v ? v.base : t;
    }

    /** Where t starts in {@link #baseOf}(t). */
    public static long offsetOf(Tensor t) {
        return t instanceof TensorView v ? v.offset : 0;
    }

    /**
     * Checks that no two of a call's tensors share a buffer (a device backend passes each buffer to a kernel once, so a
     * kernel cannot take two views of one buffer and write one of them).
     */
    public static void requireSeparate(String call, Tensor... ts) {
        for (int i = 0; i < ts.length; i++) {
            for (int j = i + 1; j < ts.length; j++) {
                if (ts[i] != null && ts[j] != null && baseOf(ts[i]) == baseOf(ts[j])) {
                    throw new IllegalArgumentException(call + " writes a tensor that shares a buffer with another of its"
                            + " tensors: " + ts[i] + " and " + ts[j]);
                }
            }
        }
    }

    /** Consecutive views of base with the given sizes, the first at offset 0 (a layout like params_memory's). */
    public static List<Tensor> tile(Backend be, Tensor base, long[] sizes) {
        List<Tensor> out = new ArrayList<>(sizes.length);
        long off = 0;
        for (long n : sizes) {
            out.add(be.view(base, off, n));
            off += n;
        }
        return List.copyOf(out);
    }

    /**
     * The buffer ts tile: ts are consecutive views of it from its first float to its last (as {@link #tile} makes
     * them), or ts is that one buffer. Anything else (separate tensors, gaps, another order) is rejected.
     */
    public static Tensor tiled(List<Tensor> ts) {
        if (ts.size() == 1 && !(ts.getFirst() instanceof TensorView)) {
            return ts.getFirst();
        }
        Tensor base = ts.isEmpty() ? null : baseOf(ts.getFirst());
        long off = 0;
        for (Tensor t : ts) {
            if (!(t instanceof TensorView v) || v.base != base || v.offset != off) {
                throw new IllegalArgumentException("the " + ts.size() + " tensors are not consecutive views tiling one"
                        + " buffer (as LoraAdapter.parameters() and LoraGradients.tensors() are)");
            }
            off += v.size;
        }
        if (off != base.size()) {
            throw new IllegalArgumentException("the views cover " + off + " of the buffer's " + base.size() + " floats");
        }
        return base;
    }

    @Override
    public String toString() {
        return "view [" + offset + ", " + (offset + size) + ") of " + base;
    }
}
