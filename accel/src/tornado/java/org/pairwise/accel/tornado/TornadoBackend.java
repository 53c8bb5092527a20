package org.pairwise.accel.tornado;

import static org.pairwise.accel.tornado.TornadoTensor.of;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.pairwise.accel.Backend;
import org.pairwise.accel.DType;
import org.pairwise.accel.RopeTable;
import org.pairwise.accel.Tensor;
import org.pairwise.accel.Weight;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.TornadoDeviceType;
import uk.ac.manchester.tornado.api.runtime.TornadoRuntimeProvider;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The TornadoVM backend, on TornadoVM's default device (OpenCL here; PoCL on CPU-only machines).
 *
 * <p>Data movement: a tensor's host copy is an off-heap {@link FloatArray}. Kernel calls are recorded, not run; a
 * recorded sequence runs when the host needs one of its tensors, and a sequence that repeats (a forward, a DPO step's
 * backward, the optimizer step with the next forward) runs as one compiled {@link Fused} whose intermediates stay on
 * the device. What a run writes stays there until the host downloads it or another sequence needs it
 * ({@link Residency}); frozen weights go down once per compiled sequence. {@link #transfers()} counts every copy.
 *
 * <p>Calls are serialised: TornadoVM execution plans are not safe to run concurrently.
 */
public final class TornadoBackend implements Backend {
    /** Vocabulary rows per log-prob chunk (one work-item per row and chunk). */
    static final int LOGPROB_CHUNK = 128;

    private final Transfers transfers = new Transfers();
    private final Residency residency;
    private final Map<RopeTable, FloatArray[]> ropeTables = new IdentityHashMap<>();
    private final TornadoDevice device;
    /**
     * Whether recorded calls wait for the host to need their results (default). With -Dpairwise.tornado.fuse=false
     * every call runs as it is made (as its own compiled one-call sequence; results still stay on the device until
     * needed): what the per-kernel rows of bench/tornado-bench.sh time.
     */
    private final boolean fuse = !"false".equals(System.getProperty("pairwise.tornado.fuse"));

    /** {@code threads} is accepted for symmetry with the cpu backend; the device decides its own parallelism. */
    public TornadoBackend(int threads) {
        this(threads, Residency.MAX_BYTES);
    }

    /** With a cap on the device bytes compiled sequences hold together (see {@link Residency#MAX_BYTES}). */
    TornadoBackend(int threads, long maxCompiledBytes) {
        this.device = TornadoRuntimeProvider.getTornadoRuntime().getDefaultDevice();
        this.residency = new Residency(transfers, maxCompiledBytes);
    }

    private void record(Op op) {
        residency.record(op);
        if (!fuse) {
            residency.flush();
        }
    }

    /** Whether TornadoVM's default device is a GPU (what {@code --backend auto} asks before choosing this backend). */
    public static boolean defaultDeviceIsGpu() {
        return TornadoRuntimeProvider.getTornadoRuntime().getDefaultDevice().getDeviceType() == TornadoDeviceType.GPU;
    }

    @Override
    public String name() {
        return "tornadovm";
    }

    /** The device kernels run on, in words. */
    public String device() {
        return device.getDeviceName() + " (" + device.getDeviceType() + ", " + device.getPhysicalDevice().getDeviceName() + ")";
    }

    /** Host-device copies made so far; what is recorded runs first, so the counts are of all work asked for. */
    public synchronized Transfers.Snapshot transfers() {
        residency.flush();
        return transfers.snapshot();
    }

    /**
     * Host-device copies made so far by work that has run; unlike {@link #transfers()} this runs nothing that is
     * recorded, so a benchmark can read it between repeated steps without cutting the sequences they record.
     */
    public synchronized Transfers.Snapshot transfersSoFar() {
        return transfers.snapshot();
    }

    /** Number of compiled sequences (execution plans) held. */
    public synchronized int graphs() {
        return residency.compiled();
    }

    /** Tensors the residency bookkeeping refers to. */
    synchronized int tracked() {
        return residency.tracked();
    }

    /** Device bytes the compiled sequences hold together. */
    public synchronized long compiledBytes() {
        return residency.compiledBytes();
    }

    // --- buffers: the host copy of a tensor is current only after hostReads/hostWrites

    @Override
    public Tensor allocate(long n) {
        if (n < 0 || n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("tornadovm tensors hold at most 2^31-9 floats, asked for " + n);
        }
        return new TornadoTensor(n);
    }

    @Override
    public synchronized void upload(Tensor dst, long dstOff, float[] src, int srcOff, int n) {
        check(of(dst), dstOff, n);
        residency.hostWrites(of(dst), dstOff == 0 && n == dst.size());
        MemorySegment.copy(src, srcOff, of(dst).data.getSegment(), ValueLayout.JAVA_FLOAT, 4 * dstOff, n);
    }

    @Override
    public synchronized void download(Tensor src, long srcOff, float[] dst, int dstOff, int n) {
        check(of(src), srcOff, n);
        residency.hostReads(of(src));
        MemorySegment.copy(of(src).data.getSegment(), ValueLayout.JAVA_FLOAT, 4 * srcOff, dst, dstOff, n);
    }

    @Override
    public synchronized void copy(Tensor dst, long dstOff, Tensor src, long srcOff, long n) {
        check(of(src), srcOff, n);
        check(of(dst), dstOff, n);
        if (n == 0) {
            return;
        }
        int len = Math.toIntExact(n);
        record(new Op("copy", len).read(src, srcOff + n).writeAt(dst, dstOff, n)
                .ints(new int[] {Math.toIntExact(dstOff), Math.toIntExact(srcOff)})
                .tasks(1, (g, id, a) ->
                        g.task(id, PointwiseKernels::copy, a.of(dst), a.of(src), a.ints(), a.intsAt(), len)));
    }

    @Override
    public synchronized void zero(Tensor t) {
        int len = Math.toIntExact(t.size());
        if (len == 0) {
            return;
        }
        // on the device, so that a tensor cleared there (gradients) stays there for the calls that accumulate into it
        record(new Op("zero", len).write(t, len)
                .tasks(1, (g, id, a) -> g.task(id, PointwiseKernels::fill, a.of(t), len)));
    }

    @Override
    public Weight weight(MemorySegment data, DType dtype, int rows, int cols) {
        long need = dtype.bytesFor((long) rows * cols);
        if (dtype == DType.Q8_0 && cols % DType.Q8_0.blockSize != 0) {
            throw new IllegalArgumentException("Q8_0 rows must hold whole blocks of 32, got cols=" + cols);
        }
        if (data.byteSize() < need) {
            throw new IllegalArgumentException(dtype + " [" + rows + "x" + cols + "] needs " + need + " bytes, segment has " + data.byteSize());
        }
        return TornadoWeight.frozen(data, dtype, rows, cols);
    }

    @Override
    public Weight weightOf(Tensor t, int rows, int cols) {
        return TornadoWeight.view(of(t), rows, cols);
    }

    @Override
    public synchronized void close() {
        residency.close(); // tensors read after close see their last values
    }

    // --- kernels: each checks its arguments now and records a call (see Op); shapes and scalars its tasks use are in
    // the call's shape, because the shape is part of the key a compiled sequence is found by

    @Override
    public synchronized void matmulForward(Tensor out, Tensor inp, Weight w, Tensor bias, int N, int C, int OC) {
        TornadoWeight tw = shape(w, C, OC);
        if (N == 0 || OC == 0) {
            return;
        }
        boolean hasBias = bias != null;
        Op o = new Op("matmulForward", N, C, OC, hasBias).read(inp, (long) N * C).weight(tw);
        if (hasBias) {
            o.read(bias, OC);
        }
        record(o.write(out, (long) N * OC).tasks(1, (g, id, a) -> g.task(id, LinearKernels::matmulForward,
                a.of(out), a.of(inp), a.of(tw), hasBias ? a.of(bias) : a.scratch(1), hasBias ? 1 : 0, N, C, OC)));
    }

    @Override
    public synchronized void matmulBackward(Tensor dinp, Tensor dbias, Tensor dout, Weight w, int N, int C, int OC) {
        TornadoWeight tw = shape(w, C, OC);
        if ((dinp == null && dbias == null) || N == 0) {
            return;
        }
        boolean wantInp = dinp != null, wantBias = dbias != null;
        Op o = new Op("matmulBackward", N, C, OC, wantInp, wantBias).read(dout, (long) N * OC);
        if (wantInp) {
            o.weight(tw).update(dinp, (long) N * C);
        }
        if (wantBias) {
            o.update(dbias, OC);
        }
        record(o.tasks((wantInp ? 1 : 0) + (wantBias ? 1 : 0), (g, id, a) -> {
            if (wantInp) {
                g.task(id + "i", LinearKernels::matmulBackwardInput, a.of(dinp), a.of(dout), a.of(tw), N, C, OC);
            }
            if (wantBias) {
                g.task(id + "b", LinearKernels::matmulBackwardBias, a.of(dbias), a.of(dout), N, OC);
            }
        }));
    }

    @Override
    public synchronized void matmulBackwardWeight(Tensor dw, Tensor dout, Tensor inp, int N, int C, int OC) {
        if (OC == 0 || C == 0) {
            return;
        }
        record(new Op("matmulBackwardWeight", N, C, OC).read(dout, (long) N * OC).read(inp, (long) N * C)
                .update(dw, (long) OC * C).tasks(1, (g, id, a) ->
                        g.task(id, LinearKernels::matmulBackwardWeight, a.of(dw), a.of(dout), a.of(inp), N, C, OC)));
    }

    @Override
    public synchronized void rmsnormForward(Tensor out, Tensor rstd, Tensor inp, Tensor w, float eps, int N, int C) {
        if (N == 0) {
            return;
        }
        record(new Op("rmsnormForward", N, C, eps).read(inp, (long) N * C).read(w, C).write(out, (long) N * C)
                .write(rstd, N).tasks(1, (g, id, a) -> g.task(id, LinearKernels::rmsnormForward, a.of(out), a.of(rstd),
                        a.of(inp), a.of(w), eps, N, C)));
    }

    @Override
    public synchronized void rmsnormBackward(Tensor dinp, Tensor dw, Tensor dout, Tensor inp, Tensor rstd, Tensor w,
                                             int N, int C) {
        if ((dinp == null && dw == null) || N == 0) {
            return;
        }
        boolean wantInp = dinp != null, wantW = dw != null;
        Op o = new Op("rmsnormBackward", N, C, wantInp, wantW).read(dout, (long) N * C).read(inp, (long) N * C)
                .read(rstd, N);
        if (wantInp) {
            o.read(w, C).update(dinp, (long) N * C);
        }
        if (wantW) {
            o.update(dw, C);
        }
        record(o.tasks((wantInp ? 1 : 0) + (wantW ? 1 : 0), (g, id, a) -> {
            if (wantInp) {
                g.task(id + "i", LinearKernels::rmsnormBackwardInput, a.of(dinp), a.of(dout), a.of(inp), a.of(rstd),
                        a.of(w), N, C);
            }
            if (wantW) {
                g.task(id + "w", LinearKernels::rmsnormBackwardWeight, a.of(dw), a.of(dout), a.of(inp), a.of(rstd), N,
                        C);
            }
        }));
    }

    @Override
    public void ropeForward(Tensor x, int[] positions, RopeTable rope, int N, int H, int HS) {
        rope(x, positions, rope, N, H, HS, 1f);
    }

    @Override
    public void ropeBackward(Tensor dx, int[] positions, RopeTable rope, int N, int H, int HS) {
        rope(dx, positions, rope, N, H, HS, -1f);
    }

    private synchronized void rope(Tensor x, int[] positions, RopeTable rope, int N, int H, int HS, float sign) {
        int rd = rope.rotaryDim();
        if (rd > HS || rd % 2 != 0) {
            throw new IllegalArgumentException("rotaryDim " + rd + " must be even and <= HS " + HS);
        }
        for (int n = 0; n < N; n++) {
            if (positions[n] < 0 || positions[n] >= rope.maxPos()) {
                throw new IllegalArgumentException("position " + positions[n] + " outside the rope table [0, " + rope.maxPos() + ")");
            }
        }
        int half = rd / 2;
        if (N == 0 || H == 0 || half == 0) {
            return;
        }
        // ADJACENT pairs (2i, 2i+1); HALVES pairs (i, i + rd/2); both follow from the table, which is in the key
        boolean adjacent = rope.pairing() == RopeTable.Pairing.ADJACENT;
        int stride = adjacent ? 2 : 1, partner = adjacent ? 1 : half;
        FloatArray[] table = ropeTables.computeIfAbsent(rope,
                r -> new FloatArray[] {FloatArray.fromArray(r.cos()), FloatArray.fromArray(r.sin())});
        record(new Op("rope", N, H, HS, sign).update(x, (long) N * H * HS).constant(table[0]).constant(table[1])
                .ints(Arrays.copyOf(positions, N)).tasks(1, (g, id, a) -> g.task(id, PointwiseKernels::rope, a.of(x),
                        a.ints(), a.intsAt(), table[0], table[1], sign, N, H, HS, half, stride, partner)));
    }

    @Override
    public synchronized void attentionForward(Tensor out, Tensor att, Tensor q, Tensor kCache, Tensor vCache,
                                              int B, int T, int pos0, int maxT, int NH, int KV, int HS) {
        if (pos0 + T > maxT) {
            throw new IllegalArgumentException("pos0 + T = " + (pos0 + T) + " exceeds maxT = " + maxT);
        }
        if (B == 0 || T == 0) {
            return;
        }
        boolean keep = att != null;
        float scale = (float) (1.0 / Math.sqrt(HS));
        long nq = (long) B * T * NH * HS, nkv = (long) B * maxT * KV * HS, np = (long) B * NH * T * maxT;
        Op o = new Op("attentionForward", B, T, maxT, NH, KV, HS, keep).read(q, nq).read(kCache, nkv).read(vCache, nkv)
                .write(out, nq).ints(new int[] {pos0});
        if (keep) {
            o.write(att, np);
        }
        // without att, the probabilities live in device-only scratch
        record(o.tasks(1, (g, id, a) -> g.task(id, AttentionKernels::forward, a.of(out),
                keep ? a.of(att) : a.scratch(np), a.of(q), a.of(kCache), a.of(vCache), a.ints(), a.intsAt(), scale,
                B * NH, T, maxT, NH, KV, HS)));
    }

    @Override
    public synchronized void attentionBackward(Tensor dq, Tensor dk, Tensor dv, Tensor dout, Tensor att, Tensor q,
                                               Tensor k, Tensor v, int B, int T, int NH, int KV, int HS) {
        if (B == 0 || T == 0) {
            return;
        }
        float scale = (float) (1.0 / Math.sqrt(HS));
        int nq = B * T * NH * HS, nkv = B * T * KV * HS, np = B * NH * T * T;
        record(new Op("attentionBackward", B, T, NH, KV, HS).read(dout, nq).read(att, np).read(q, nq)
                .read(k, nkv).read(v, nkv).update(dq, nq).update(dk, nkv).update(dv, nkv).tasks(3, (g, id, a) -> {
                    FloatArray dS = a.scratch(np);
                    g.task(id + "s", AttentionKernels::backwardScores, dS, a.of(dout), a.of(att), a.of(v), scale,
                                    B * NH, T, NH, KV, HS)
                            .task(id + "q", AttentionKernels::backwardQuery, a.of(dq), dS, a.of(k), B * T * NH, T, NH,
                                    KV, HS)
                            .task(id + "kv", AttentionKernels::backwardKeyValue, a.of(dk), a.of(dv), dS, a.of(att),
                                    a.of(q), a.of(dout), B * T * KV, T, NH, KV, HS);
                }));
    }

    @Override
    public synchronized void swigluForward(Tensor out, Tensor gate, Tensor up, int N, int C) {
        int n = Math.multiplyExact(N, C);
        if (n == 0) {
            return;
        }
        record(new Op("swigluForward", n).read(gate, n).read(up, n).write(out, n).tasks(1, (g, id, a) ->
                g.task(id, PointwiseKernels::swigluForward, a.of(out), a.of(gate), a.of(up), n)));
    }

    @Override
    public synchronized void swigluBackward(Tensor dgate, Tensor dup, Tensor dout, Tensor gate, Tensor up, int N, int C) {
        int n = Math.multiplyExact(N, C);
        if (n == 0 || (dgate == null && dup == null)) {
            return;
        }
        boolean wantGate = dgate != null, wantUp = dup != null;
        Op o = new Op("swigluBackward", n, wantGate, wantUp).read(dout, n).read(gate, n);
        if (wantGate) {
            o.read(up, n).update(dgate, n);
        }
        if (wantUp) {
            o.update(dup, n);
        }
        record(o.tasks((wantGate ? 1 : 0) + (wantUp ? 1 : 0), (g, id, a) -> {
            if (wantGate) {
                g.task(id + "g", PointwiseKernels::swigluBackwardGate, a.of(dgate), a.of(dout), a.of(gate), a.of(up),
                        n);
            }
            if (wantUp) {
                g.task(id + "u", PointwiseKernels::swigluBackwardUp, a.of(dup), a.of(dout), a.of(gate), n);
            }
        }));
    }

    @Override
    public synchronized void add(Tensor out, Tensor inp, long n) {
        int m = Math.toIntExact(n);
        if (m == 0) {
            return;
        }
        record(new Op("add", m).read(inp, m).update(out, m).tasks(1, (g, id, a) ->
                g.task(id, PointwiseKernels::add, a.of(out), a.of(inp), m)));
    }

    @Override
    public synchronized void scale(Tensor x, float sc, long n) {
        int m = Math.toIntExact(n);
        if (m == 0) {
            return;
        }
        // the factor travels as a per-call value, so one compiled sequence serves every factor
        record(new Op("scale", m).update(x, m).floats(sc).tasks(1, (g, id, a) ->
                g.task(id, PointwiseKernels::scale, a.of(x), a.floats(), a.floatsAt(), m)));
    }

    @Override
    public synchronized void embeddingForward(Tensor out, int[] tokens, Weight table, int N, int C) {
        TornadoWeight tw = TornadoWeight.of(table);
        if (tw.cols() != C) {
            throw new IllegalArgumentException("embedding table " + tw + " does not have C=" + C + " columns");
        }
        checkTokens(tokens, N, tw.rows());
        if (N == 0 || C == 0) {
            return;
        }
        record(new Op("embeddingForward", N, C).weight(tw).write(out, (long) N * C).ints(Arrays.copyOf(tokens, N))
                .tasks(1, (g, id, a) -> g.task(id, LinearKernels::embeddingForward, a.of(out), a.ints(), a.intsAt(),
                        a.of(tw), N, C)));
    }

    @Override
    public synchronized void embeddingBackward(Tensor dtable, Tensor dout, int[] tokens, int N, int C) {
        int V = Math.toIntExact(dtable.size() / C);
        checkTokens(tokens, N, V);
        if (N == 0 || C == 0) {
            return;
        }
        record(new Op("embeddingBackward", N, C, V).read(dout, (long) N * C).update(dtable, (long) V * C)
                .ints(Arrays.copyOf(tokens, N)).tasks(1, (g, id, a) ->
                        g.task(id, LinearKernels::embeddingBackward, a.of(dtable), a.of(dout), a.ints(), a.intsAt(), N,
                                C)));
    }

    @Override
    public synchronized void logprobForward(Tensor logp, Tensor lse, Tensor logitSum, Tensor h, Weight w,
                                            int[] targets, int N, int C, int V) {
        TornadoWeight tw = lmHead(w, C, V);
        checkTargets(targets, N, V);
        if (N == 0) {
            return;
        }
        int nch = (V + LOGPROB_CHUNK - 1) / LOGPROB_CHUNK;
        record(new Op("logprobForward", N, C, V).read(h, (long) N * C).weight(tw).write(logp, N).write(lse, N)
                .write(logitSum, N).ints(Arrays.copyOf(targets, N)).tasks(2, (g, id, a) -> {
                    // per-chunk partial maxima, sums, logit sums and target logits: device-only scratch
                    FloatArray pm = a.scratch((long) N * nch), ps = a.scratch((long) N * nch),
                            psum = a.scratch((long) N * nch), ptgt = a.scratch((long) N * nch);
                    g.task(id + "c", LogprobKernels::forwardChunks, pm, ps, psum, ptgt, a.of(h), a.of(tw), a.ints(),
                                    a.intsAt(), N, C, V, LOGPROB_CHUNK, nch)
                            .task(id + "m", LogprobKernels::forwardMerge, a.of(logp), a.of(lse), a.of(logitSum), pm, ps,
                                    psum, ptgt, a.ints(), a.intsAt(), N, LOGPROB_CHUNK, nch);
                }));
    }

    @Override
    public synchronized void logprobBackward(Tensor dh, Tensor dlogp, Tensor h, Weight w, Tensor lse, int[] targets,
                                             int N, int C, int V) {
        TornadoWeight tw = lmHead(w, C, V);
        checkTargets(targets, N, V);
        if (N == 0 || C == 0) {
            return;
        }
        // Enough (row, column block) work-items to occupy a device even for a handful of rows.
        int ncb = Math.max(1, Math.min((C + 31) / 32, (64 + N - 1) / N));
        int cb = (C + ncb - 1) / ncb;
        int blocks = (C + cb - 1) / cb;
        record(new Op("logprobBackward", N, C, V).read(dlogp, N).read(h, (long) N * C).read(lse, N).weight(tw)
                .update(dh, (long) N * C).ints(Arrays.copyOf(targets, N)).tasks(1, (g, id, a) ->
                        g.task(id, LogprobKernels::backward, a.of(dh), a.of(dlogp), a.of(h), a.of(tw), a.of(lse), a.ints(),
                                a.intsAt(), N, C, V, cb, blocks)));
    }

    @Override
    public synchronized void adamwUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, long n, float lr, float beta1,
                                         float beta2, float eps, float weightDecay, int step) {
        if (step < 1) {
            throw new IllegalArgumentException("AdamW step counts from 1, got " + step);
        }
        int len = Math.toIntExact(n);
        if (len == 0) {
            return;
        }
        // The bias corrections are computed in double on the host, as the cpu backend does; they travel per call.
        float[] params = {1f - lr * weightDecay, (float) (lr / (1 - Math.pow(beta1, step))),
                (float) Math.sqrt(1 - Math.pow(beta2, step)), beta1, beta2, eps};
        record(new Op("adamw", len).read(grad, len).update(param, len).update(m, len).update(v, len)
                .floats(params).tasks(1, (g, id, a) -> g.task(id, PointwiseKernels::adamw, a.of(param), a.of(grad),
                        a.of(m), a.of(v), a.floats(), a.floatsAt(), len)));
    }

    @Override
    public synchronized double sumOfSquares(Tensor t, long n) {
        int len = Math.toIntExact(n);
        if (len == 0) {
            return 0;
        }
        check(of(t), 0, len);
        if (!residency.pending(of(t))) {
            // No recorded call uses t: its value is on the host, or one fetch away. Summing it here (in double, as the
            // cpu backend does) costs at most that fetch; on the device it would cost the fetch, the copy back down
            // into this call's graph and the partial sums up.
            residency.hostReads(of(t));
            MemorySegment seg = of(t).data.getSegment();
            double total = 0;
            for (long i = 0; i < len; i++) {
                double x = seg.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                total += x * x;
            }
            return total;
        }
        // t is being computed: sum it on the device at the end of the recorded sequence; only the partials come back.
        int blocks = (len + PointwiseKernels.SUMSQ_BLOCK - 1) / PointwiseKernels.SUMSQ_BLOCK;
        Op o = new Op("sumOfSquares", len, blocks).read(t, len).tasks(1, (g, id, a) ->
                g.task(id, PointwiseKernels::sumOfSquaresAt, a.result(blocks), 0, a.of(t), len, blocks));
        residency.record(o);
        residency.flush();
        double total = 0;
        for (int b = 0; b < blocks; b++) {
            total += o.result[b];
        }
        return total;
    }

    /**
     * The sum over several tensors (AdamW's gradient norm) in one recorded sequence: every tensor a recorded call uses
     * is summed on the device, after those calls, each block's partial sum written at the tensor's own offset of one
     * partials tensor, which then comes back in ONE copy; the tensors themselves stay on the device. Tensors no
     * recorded call uses are summed on the host, as {@link #sumOfSquares(Tensor, long)} does (one fetch at most).
     */
    @Override
    public synchronized double sumOfSquares(List<Tensor> tensors) {
        double total = 0;
        List<TornadoTensor> device = new ArrayList<>();
        int blocksAll = 0;
        for (Tensor t : tensors) {
            if (t.size() == 0) {
                continue;
            }
            if (residency.pending(of(t))) {
                int blocks = Math.toIntExact(
                        (t.size() + PointwiseKernels.SUMSQ_BLOCK - 1) / PointwiseKernels.SUMSQ_BLOCK);
                blocksAll = Math.addExact(blocksAll, blocks);
                device.add(of(t));
            } else {
                total += sumOfSquares(t, t.size());
            }
        }
        if (device.isEmpty()) {
            return total;
        }
        // The partials tensor is zeroed on the device first: a whole write, so it is not an input of the sequence
        // (nothing goes down for it); each tensor's call then writes its blocks at its offset. Its shape is in the
        // sequence's key like any tensor's, so the same list of sizes finds the same compiled sequence.
        Tensor partials = allocate(blocksAll);
        int all = blocksAll;
        residency.record(new Op("zero", all).write(partials, all)
                .tasks(1, (g, id, a) -> g.task(id, PointwiseKernels::fill, a.of(partials), all)));
        int off = 0;
        for (TornadoTensor t : device) {
            int len = Math.toIntExact(t.size()), at = off;
            int blocks = (len + PointwiseKernels.SUMSQ_BLOCK - 1) / PointwiseKernels.SUMSQ_BLOCK;
            residency.record(new Op("sumOfSquaresAt", len, blocks, at).read(t, len).writeAt(partials, at, blocks)
                    .tasks(1, (g, id, a) -> g.task(id, PointwiseKernels::sumOfSquaresAt, a.of(partials), at, a.of(t),
                            len, blocks)));
            off += blocks;
        }
        residency.hostReads(of(partials)); // runs the recorded sequence; the partials come back, not the tensors
        MemorySegment seg = of(partials).data.getSegment();
        for (int b = 0; b < blocksAll; b++) {
            total += seg.getAtIndex(ValueLayout.JAVA_FLOAT, b);
        }
        return total;
    }

    // --- helpers

    private static void check(TornadoTensor t, long off, long n) {
        if (off < 0 || n < 0 || off + n > t.size()) {
            throw new IndexOutOfBoundsException("[" + off + ", " + (off + n) + ") outside a tensor of " + t.size() + " floats");
        }
    }

    private static TornadoWeight shape(Weight w, int C, int OC) {
        TornadoWeight tw = TornadoWeight.of(w);
        if (tw.rows() != OC || tw.cols() != C) {
            throw new IllegalArgumentException("weight " + tw + " does not match OC=" + OC + ", C=" + C);
        }
        return tw;
    }

    private static TornadoWeight lmHead(Weight w, int C, int V) {
        TornadoWeight tw = TornadoWeight.of(w);
        if (tw.rows() != V || tw.cols() != C) {
            throw new IllegalArgumentException("lm head " + tw + " does not match V=" + V + ", C=" + C);
        }
        return tw;
    }

    private static void checkTokens(int[] tokens, int N, int V) {
        for (int n = 0; n < N; n++) {
            if (tokens[n] < 0 || tokens[n] >= V) {
                throw new IllegalArgumentException("token id " + tokens[n] + " outside the vocabulary [0, " + V + ")");
            }
        }
    }

    private static void checkTargets(int[] targets, int N, int V) {
        for (int n = 0; n < N; n++) {
            if (targets[n] >= V) {
                throw new IllegalArgumentException("target " + targets[n] + " at row " + n + " outside the vocabulary [0, " + V + ")");
            }
        }
    }
}
