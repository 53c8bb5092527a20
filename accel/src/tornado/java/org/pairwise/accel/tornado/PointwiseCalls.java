package org.pairwise.accel.tornado;

import org.pairwise.accel.Tensor;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The calls of {@link PointwiseKernels} as {@link Op}s (see {@link LinearCalls}). copy, zero, scale, AdamW and the sum
 * of squares take views of flat buffers (parameters, gradients, moments); copy's offsets travel per call.
 */
final class PointwiseCalls {
    private PointwiseCalls() {}

    static Op copy(Tensor dst, long dstOff, Tensor src, long srcOff, long n) {
        Tensor.checkRange(src, srcOff, n);
        Tensor.checkRange(dst, dstOff, n);
        if (n == 0) {
            return null;
        }
        int len = Math.toIntExact(n);
        if (TornadoTensor.base(dst) == TornadoTensor.base(src)) {
            return copyWithin(TornadoTensor.base(dst), TornadoTensor.offset(src) + srcOff,
                    TornadoTensor.offset(dst) + dstOff, len);
        }
        return new Op("copy", len).readView(src, srcOff, n).offsetInt(TornadoTensor.offset(src) + srcOff)
                .writeView(dst, dstOff, n).offsetInt(TornadoTensor.offset(dst) + dstOff).tasks(1, (g, id, a) ->
                        g.task(id, PointwiseKernels::copy, a.of(dst), a.of(src), a.ints(), a.intsAt(), len));
    }

    // Within one buffer (a kernel takes an array once, and the ranges may overlap): through device-only scratch, so it
    // copies as System.arraycopy does. One access spans both ranges; the per-call ints are {from, 0} for the copy into
    // the scratch and {0, to} for the copy back (source first, as the copy kernel reads them).
    private static Op copyWithin(TornadoTensor t, long from, long to, int len) {
        long lo = Math.min(from, to), hi = Math.max(from, to) + len;
        return new Op("copyWithin", len).updateRange(t, lo, hi - lo).offsetInt(from).ints(0, 0).offsetInt(to)
                .tasks(2, (g, id, a) -> {
                    FloatArray scratch = a.scratch(len);
                    g.task(id + "a", PointwiseKernels::copy, scratch, a.of(t), a.ints(), a.intsAt(), len)
                            .task(id + "b", PointwiseKernels::copy, a.of(t), scratch, a.ints(), a.intsAt() + 2, len);
                });
    }

    /** On the device, so that a tensor cleared there (gradients) stays there for the calls that accumulate into it. */
    static Op zero(Tensor t) {
        int len = Math.toIntExact(t.size());
        if (len == 0) {
            return null;
        }
        return new Op("zero", len).writeView(t, 0, len).tasks(1, (g, id, a) ->
                g.task(id, PointwiseKernels::fill, a.of(t), a.at(t), len));
    }

    static Op swigluForward(Tensor out, Tensor gate, Tensor up, int N, int C) {
        int n = Math.multiplyExact(N, C);
        if (n == 0) {
            return null;
        }
        return new Op("swigluForward", n).read(gate, n).read(up, n).write(out, n).tasks(1, (g, id, a) ->
                g.task(id, PointwiseKernels::swigluForward, a.of(out), a.of(gate), a.of(up), n));
    }

    static Op swigluBackward(Tensor dgate, Tensor dup, Tensor dout, Tensor gate, Tensor up, int N, int C) {
        int n = Math.multiplyExact(N, C);
        if (n == 0 || (dgate == null && dup == null)) {
            return null;
        }
        boolean wantGate = dgate != null, wantUp = dup != null;
        Op o = new Op("swigluBackward", n, wantGate, wantUp).read(dout, n).read(gate, n);
        if (wantGate) {
            o.read(up, n).update(dgate, n);
        }
        if (wantUp) {
            o.update(dup, n);
        }
        return o.tasks((wantGate ? 1 : 0) + (wantUp ? 1 : 0), (g, id, a) -> {
            if (wantGate) {
                g.task(id + "g", PointwiseKernels::swigluBackwardGate, a.of(dgate), a.of(dout), a.of(gate), a.of(up),
                        n);
            }
            if (wantUp) {
                g.task(id + "u", PointwiseKernels::swigluBackwardUp, a.of(dup), a.of(dout), a.of(gate), n);
            }
        });
    }

    static Op add(Tensor out, Tensor inp, long n) {
        int m = Math.toIntExact(n);
        if (m == 0) {
            return null;
        }
        return new Op("add", m).read(inp, m).update(out, m).tasks(1, (g, id, a) ->
                g.task(id, PointwiseKernels::add, a.of(out), a.of(inp), m));
    }

    /** The factor travels as a per-call value, so one compiled sequence serves every factor. */
    static Op scale(Tensor x, float factor, long n) {
        int m = Math.toIntExact(n);
        if (m == 0) {
            return null;
        }
        return new Op("scale", m).updateView(x, 0, m).floats(factor).tasks(1, (g, id, a) ->
                g.task(id, PointwiseKernels::scale, a.of(x), a.at(x), a.floats(), a.floatsAt(), m));
    }

    /** The bias corrections are computed in double on the host, as the cpu backend does; they travel per call. */
    static Op adamw(Tensor param, Tensor grad, Tensor m, Tensor v, long n, float lr, float beta1, float beta2,
                    float eps, float weightDecay, int step) {
        if (step < 1) {
            throw new IllegalArgumentException("AdamW step counts from 1, got " + step);
        }
        int len = Math.toIntExact(n);
        if (len == 0) {
            return null;
        }
        float[] factors = {1f - lr * weightDecay, (float) (lr / (1 - Math.pow(beta1, step))),
                (float) Math.sqrt(1 - Math.pow(beta2, step)), beta1, beta2, eps};
        return new Op("adamw", len).readView(grad, 0, len).updateView(param, 0, len).updateView(m, 0, len)
                .updateView(v, 0, len).floats(factors).tasks(1, (g, id, a) -> g.task(id, PointwiseKernels::adamw,
                        a.of(param), a.at(param), a.of(grad), a.at(grad), a.of(m), a.at(m), a.of(v), a.at(v), a.floats(),
                        a.floatsAt(), len));
    }

    /** Partial sums of squares of t's n floats, one per block of SUMSQ_BLOCK: the op's result after it ran. */
    static Op sumOfSquares(Tensor t, int n) {
        int blocks = (n + PointwiseKernels.SUMSQ_BLOCK - 1) / PointwiseKernels.SUMSQ_BLOCK;
        return new Op("sumOfSquares", n, blocks).readView(t, 0, n).tasks(1, (g, id, a) ->
                g.task(id, PointwiseKernels::sumOfSquares, a.result(blocks), a.of(t), a.at(t), n, blocks));
    }
}
