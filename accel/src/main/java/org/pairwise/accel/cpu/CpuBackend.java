package org.pairwise.accel.cpu;

import static org.pairwise.accel.cpu.CpuTensor.array;
import static org.pairwise.accel.cpu.CpuTensor.of;
import static org.pairwise.accel.cpu.CpuTensor.offset;
import static org.pairwise.accel.cpu.CpuTensor.orNull;

import java.lang.foreign.MemorySegment;
import org.pairwise.accel.Backend;
import org.pairwise.accel.DType;
import org.pairwise.accel.RopeTable;
import org.pairwise.accel.Tensor;
import org.pairwise.accel.TensorView;
import org.pairwise.accel.Weight;

/**
 * The CPU backend: heap float[] tensors, weights read in place from their segments, Java Vector API kernels run on a
 * dedicated fork/join pool of {@code threads} threads (small jobs inline). The reference every other backend is
 * tested against. A view ({@link #view}) is its base's array from an offset; the calls that take views pass the
 * offset to their kernel.
 */
public final class CpuBackend implements Backend {
    private final Parallel par;

    public CpuBackend(int threads) {
        this.par = new Parallel(threads);
    }

    public int threads() {
        return par.threads;
    }

    @Override
    public String name() {
        return "cpu";
    }

    // --- buffers

    @Override
    public Tensor allocate(long n) {
        if (n < 0 || n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("cpu tensors hold at most 2^31-9 floats, asked for " + n);
        }
        return new CpuTensor(new float[(int) n]);
    }

    @Override
    public Tensor view(Tensor base, long offset, long size) {
        array(base);
        return Backend.super.view(base, offset, size);
    }

    @Override
    public void upload(Tensor dst, long dstOff, float[] src, int srcOff, int n) {
        System.arraycopy(src, srcOff, array(dst), at(dst, dstOff, n), n);
    }

    @Override
    public void download(Tensor src, long srcOff, float[] dst, int dstOff, int n) {
        System.arraycopy(array(src), at(src, srcOff, n), dst, dstOff, n);
    }

    @Override
    public void copy(Tensor dst, long dstOff, Tensor src, long srcOff, long n) {
        int len = Math.toIntExact(n);
        System.arraycopy(array(src), at(src, srcOff, n), array(dst), at(dst, dstOff, n), len);
    }

    @Override
    public void zero(Tensor t) {
        int off = at(t, 0, t.size());
        java.util.Arrays.fill(array(t), off, off + Math.toIntExact(t.size()), 0f);
    }

    @Override
    public Weight weight(MemorySegment data, DType dtype, int rows, int cols) {
        dtype.checkMatrix(data, rows, cols);
        return switch (dtype) {
            case F32 -> new F32Weight(data, rows, cols);
            case F16 -> new F16Weight(data, rows, cols);
            case BF16 -> new Bf16Weight(data, rows, cols);
            case Q8_0 -> new Q8Weight(data, rows, cols);
        };
    }

    @Override
    public Weight weightOf(Tensor t, int rows, int cols) {
        return new HeapWeight(array(t), at(t, 0, (long) rows * cols), rows, cols);
    }

    @Override
    public void close() {
        par.close();
    }

    // --- kernels

    @Override
    public void matmulForward(Tensor out, Tensor inp, Weight w, Tensor bias, int N, int C, int OC) {
        Matmul.forward(par, of(out), of(inp), CpuWeight.of(w), orNull(bias), N, C, OC);
    }

    @Override
    public void matmulBackward(Tensor dinp, Tensor dbias, Tensor dout, Weight w, int N, int C, int OC) {
        Matmul.backward(par, orNull(dinp), orNull(dbias), of(dout), CpuWeight.of(w), N, C, OC);
    }

    @Override
    public void matmulBackwardWeight(Tensor dw, Tensor dout, Tensor inp, int N, int C, int OC) {
        TensorView.requireSeparate("matmulBackwardWeight", dw, dout, inp);
        Matmul.backwardWeight(par, array(dw), at(dw, 0, (long) OC * C), of(dout), of(inp), N, C, OC);
    }

    @Override
    public void rmsnormForward(Tensor out, Tensor rstd, Tensor inp, Tensor w, float eps, int N, int C) {
        RmsNorm.forward(par, of(out), of(rstd), of(inp), of(w), eps, N, C);
    }

    @Override
    public void rmsnormBackward(Tensor dinp, Tensor dw, Tensor dout, Tensor inp, Tensor rstd, Tensor w, int N, int C) {
        RmsNorm.backward(par, orNull(dinp), orNull(dw), of(dout), of(inp), of(rstd), of(w), N, C);
    }

    @Override
    public void ropeForward(Tensor x, int[] positions, RopeTable rope, int N, int H, int HS) {
        Rope.rotate(par, of(x), positions, rope, N, H, HS, 1f);
    }

    @Override
    public void ropeBackward(Tensor dx, int[] positions, RopeTable rope, int N, int H, int HS) {
        Rope.rotate(par, of(dx), positions, rope, N, H, HS, -1f);
    }

    @Override
    public void attentionForward(Tensor out, Tensor att, Tensor q, Tensor kCache, Tensor vCache,
                                 int B, int T, int pos0, int maxT, int NH, int KV, int HS) {
        Attention.forward(par, of(out), orNull(att), of(q), of(kCache), of(vCache), B, T, pos0, maxT, NH, KV, HS);
    }

    @Override
    public void attentionBackward(Tensor dq, Tensor dk, Tensor dv, Tensor dout, Tensor att, Tensor q, Tensor k,
                                  Tensor v, int B, int T, int NH, int KV, int HS) {
        Attention.backward(par, of(dq), of(dk), of(dv), of(dout), of(att), of(q), of(k), of(v), B, T, NH, KV, HS);
    }

    @Override
    public void swigluForward(Tensor out, Tensor gate, Tensor up, int N, int C) {
        Elementwise.swigluForward(par, of(out), of(gate), of(up), Math.multiplyExact(N, C));
    }

    @Override
    public void swigluBackward(Tensor dgate, Tensor dup, Tensor dout, Tensor gate, Tensor up, int N, int C) {
        Elementwise.swigluBackward(par, orNull(dgate), orNull(dup), of(dout), of(gate), of(up), Math.multiplyExact(N, C));
    }

    @Override
    public void add(Tensor out, Tensor inp, long n) {
        Elementwise.add(par, of(out), of(inp), Math.toIntExact(n));
    }

    @Override
    public void scale(Tensor x, float s, long n) {
        Elementwise.scale(par, array(x), at(x, 0, n), s, Math.toIntExact(n));
    }

    @Override
    public void embeddingForward(Tensor out, int[] tokens, Weight table, int N, int C) {
        Elementwise.embeddingForward(par, of(out), tokens, CpuWeight.of(table), N, C);
    }

    @Override
    public void logprobForward(Tensor logp, Tensor lse, Tensor logitSum, Tensor h, Weight w, int[] targets,
                               int N, int C, int V) {
        Logprob.forward(par, of(logp), of(lse), of(logitSum), of(h), CpuWeight.of(w), targets, N, C, V);
    }

    @Override
    public void logprobBackward(Tensor dh, Tensor dlogp, Tensor h, Weight w, Tensor lse, int[] targets,
                                int N, int C, int V) {
        Logprob.backward(par, of(dh), of(dlogp), of(h), CpuWeight.of(w), of(lse), targets, N, C, V);
    }

    @Override
    public void adamwUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, long n, float lr, float beta1, float beta2,
                            float eps, float weightDecay, int step) {
        if (step < 1) {
            throw new IllegalArgumentException("AdamW step counts from 1, got " + step);
        }
        TensorView.requireSeparate("adamwUpdate", param, grad, m, v);
        Optim.adamw(par, array(param), at(param, 0, n), array(grad), at(grad, 0, n), array(m), at(m, 0, n), array(v),
                at(v, 0, n), Math.toIntExact(n), lr, beta1, beta2, eps, weightDecay, step);
    }

    @Override
    public double sumOfSquares(Tensor t, long n) {
        return Optim.sumOfSquares(array(t), at(t, 0, n), Math.toIntExact(n));
    }

    /** Index in t's array of float off of t, after checking that [off, off + n) lies inside t (a view's bounds). */
    private static int at(Tensor t, long off, long n) {
        Tensor.checkRange(t, off, n);
        return Math.toIntExact(offset(t) + off);
    }
}
