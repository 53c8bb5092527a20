package org.pairwise.accel.tornado;

import static org.pairwise.accel.tornado.TornadoTensor.of;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.pairwise.accel.Backend;
import org.pairwise.accel.DType;
import org.pairwise.accel.RopeTable;
import org.pairwise.accel.Tensor;
import org.pairwise.accel.Weight;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.TornadoDeviceType;
import uk.ac.manchester.tornado.api.runtime.TornadoRuntimeProvider;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * The TornadoVM backend: every kernel is a TaskGraph built once per (kernel, shape, bound weight) and run through its
 * cached execution plan on TornadoVM's default device (OpenCL here; PoCL on CPU-only machines).
 *
 * <p>Data movement, stated plainly: tensors live in host {@link FloatArray}s. Each graph owns staging arrays sized for
 * its shape; a call copies its tensor arguments into them (host memcpy), the plan moves them to the device, runs, and
 * moves the results back. Frozen weights and rope tables are bound to the graph and reach the device on its first run
 * only. Tensors are therefore not yet resident on the device between kernel calls; {@link #transfers()} counts every
 * copy so a benchmark can report copies per forward and per step.
 *
 * <p>Kernel calls are serialised: TornadoVM execution plans are not safe to run concurrently.
 */
public final class TornadoBackend implements Backend {
    /** Vocabulary rows per log-prob chunk (one work-item per row and chunk). */
    static final int LOGPROB_CHUNK = 128;

    private final Transfers transfers = new Transfers();
    private final Map<List<Object>, Staged> graphs = new HashMap<>();
    private final TornadoDevice device;

    /** {@code threads} is accepted for symmetry with the cpu backend; the device decides its own parallelism. */
    public TornadoBackend(int threads) {
        this.device = TornadoRuntimeProvider.getTornadoRuntime().getDefaultDevice();
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

    /** Host-device copies made so far by this backend's graphs. */
    public Transfers.Snapshot transfers() {
        return transfers.snapshot();
    }

    /** Number of distinct graphs (compiled kernels sets) built so far. */
    public synchronized int graphs() {
        return graphs.size();
    }

    // --- buffers (host-side: the staging copies into graphs are where device traffic happens)

    @Override
    public Tensor allocate(long n) {
        if (n < 0 || n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("tornadovm tensors hold at most 2^31-9 floats, asked for " + n);
        }
        return new TornadoTensor(n);
    }

    @Override
    public void upload(Tensor dst, long dstOff, float[] src, int srcOff, int n) {
        check(of(dst), dstOff, n);
        MemorySegment.copy(src, srcOff, of(dst).data.getSegment(), ValueLayout.JAVA_FLOAT, 4 * dstOff, n);
    }

    @Override
    public void download(Tensor src, long srcOff, float[] dst, int dstOff, int n) {
        check(of(src), srcOff, n);
        MemorySegment.copy(of(src).data.getSegment(), ValueLayout.JAVA_FLOAT, 4 * srcOff, dst, dstOff, n);
    }

    @Override
    public void copy(Tensor dst, long dstOff, Tensor src, long srcOff, long n) {
        check(of(src), srcOff, n);
        check(of(dst), dstOff, n);
        MemorySegment.copy(of(src).data.getSegment(), 4 * srcOff, of(dst).data.getSegment(), 4 * dstOff, 4 * n);
    }

    @Override
    public void zero(Tensor t) {
        of(t).data.getSegment().fill((byte) 0);
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
        graphs.values().forEach(s -> s.graph.close());
        graphs.clear();
    }

    // --- kernels: each stages its tensors into the graph for its shape, executes, and copies results out

    @Override
    public synchronized void matmulForward(Tensor out, Tensor inp, Weight w, Tensor bias, int N, int C, int OC) {
        TornadoWeight tw = shape(w, C, OC);
        if (N == 0 || OC == 0) {
            return;
        }
        boolean hasBias = bias != null;
        Staged s = graph(List.of("matmulForward", N, C, OC, hasBias, tw), k -> {
            FloatArray o = floats(N * OC), x = floats(N * C), b = floats(hasBias ? OC : 1);
            Graph g = new Graph("matmulForward", transfers).everyRun(x);
            weightIn(g, tw);
            if (hasBias) {
                g.everyRun(b);
            } else {
                g.firstRun(b);
            }
            g.tasks.task("t", LinearKernels::matmulForward, o, x, tw.data, b, hasBias ? 1 : 0, N, C, OC);
            return new Staged(g.back(o).seal(), o, x, b);
        });
        put(s.f[1], inp, N * C);
        if (hasBias) {
            put(s.f[2], bias, OC);
        }
        s.graph.execute();
        get(s.f[0], out, N * OC);
    }

    @Override
    public synchronized void matmulBackward(Tensor dinp, Tensor dbias, Tensor dout, Weight w, int N, int C, int OC) {
        TornadoWeight tw = shape(w, C, OC);
        if ((dinp == null && dbias == null) || N == 0) {
            return;
        }
        boolean wantInp = dinp != null, wantBias = dbias != null;
        Staged s = graph(List.of("matmulBackward", N, C, OC, wantInp, wantBias, tw), k -> {
            FloatArray dy = floats(N * OC), dx = floats(N * C), db = floats(OC);
            Graph g = new Graph("matmulBackward", transfers).everyRun(dy);
            if (wantInp) {
                weightIn(g, tw);
                g.everyRun(dx).tasks.task("dinp", LinearKernels::matmulBackwardInput, dx, dy, tw.data, N, C, OC);
                g.back(dx);
            }
            if (wantBias) {
                g.everyRun(db).tasks.task("dbias", LinearKernels::matmulBackwardBias, db, dy, N, OC);
                g.back(db);
            }
            return new Staged(g.seal(), dy, dx, db);
        });
        put(s.f[0], dout, N * OC);
        if (wantInp) {
            put(s.f[1], dinp, N * C);
        }
        if (wantBias) {
            put(s.f[2], dbias, OC);
        }
        s.graph.execute();
        if (wantInp) {
            get(s.f[1], dinp, N * C);
        }
        if (wantBias) {
            get(s.f[2], dbias, OC);
        }
    }

    @Override
    public synchronized void matmulBackwardWeight(Tensor dw, Tensor dout, Tensor inp, int N, int C, int OC) {
        if (OC == 0 || C == 0) {
            return;
        }
        Staged s = graph(List.of("matmulBackwardWeight", N, C, OC), k -> {
            FloatArray gw = floats(OC * C), dy = floats(N * OC), x = floats(N * C);
            Graph g = new Graph("matmulBackwardWeight", transfers).everyRun(gw, dy, x);
            g.tasks.task("dw", LinearKernels::matmulBackwardWeight, gw, dy, x, N, C, OC);
            return new Staged(g.back(gw).seal(), gw, dy, x);
        });
        put(s.f[0], dw, OC * C);
        put(s.f[1], dout, N * OC);
        put(s.f[2], inp, N * C);
        s.graph.execute();
        get(s.f[0], dw, OC * C);
    }

    @Override
    public synchronized void rmsnormForward(Tensor out, Tensor rstd, Tensor inp, Tensor w, float eps, int N, int C) {
        if (N == 0) {
            return;
        }
        Staged s = graph(List.of("rmsnormForward", N, C, eps), k -> {
            FloatArray o = floats(N * C), r = floats(N), x = floats(N * C), wt = floats(C);
            Graph g = new Graph("rmsnormForward", transfers).everyRun(x, wt);
            g.tasks.task("t", LinearKernels::rmsnormForward, o, r, x, wt, eps, N, C);
            return new Staged(g.back(o, r).seal(), o, r, x, wt);
        });
        put(s.f[2], inp, N * C);
        put(s.f[3], w, C);
        s.graph.execute();
        get(s.f[0], out, N * C);
        get(s.f[1], rstd, N);
    }

    @Override
    public synchronized void rmsnormBackward(Tensor dinp, Tensor dw, Tensor dout, Tensor inp, Tensor rstd, Tensor w,
                                             int N, int C) {
        if ((dinp == null && dw == null) || N == 0) {
            return;
        }
        boolean wantInp = dinp != null, wantW = dw != null;
        Staged s = graph(List.of("rmsnormBackward", N, C, wantInp, wantW), k -> {
            FloatArray dx = floats(N * C), gw = floats(C), dy = floats(N * C), x = floats(N * C), r = floats(N),
                    wt = floats(C);
            Graph g = new Graph("rmsnormBackward", transfers).everyRun(dy, x, r);
            if (wantInp) {
                g.everyRun(dx, wt).tasks.task("dinp", LinearKernels::rmsnormBackwardInput, dx, dy, x, r, wt, N, C);
                g.back(dx);
            }
            if (wantW) {
                g.everyRun(gw).tasks.task("dw", LinearKernels::rmsnormBackwardWeight, gw, dy, x, r, N, C);
                g.back(gw);
            }
            return new Staged(g.seal(), dx, gw, dy, x, r, wt);
        });
        put(s.f[2], dout, N * C);
        put(s.f[3], inp, N * C);
        put(s.f[4], rstd, N);
        if (wantInp) {
            put(s.f[0], dinp, N * C);
            put(s.f[5], w, C);
        }
        if (wantW) {
            put(s.f[1], dw, C);
        }
        s.graph.execute();
        if (wantInp) {
            get(s.f[0], dinp, N * C);
        }
        if (wantW) {
            get(s.f[1], dw, C);
        }
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
        // ADJACENT pairs (2i, 2i+1); HALVES pairs (i, i + rd/2)
        boolean adjacent = rope.pairing() == RopeTable.Pairing.ADJACENT;
        int stride = adjacent ? 2 : 1, partner = adjacent ? 1 : half;
        Staged s = graph(List.of("rope", N, H, HS, sign, rope), k -> {
            FloatArray xs = floats(N * H * HS), cos = FloatArray.fromArray(rope.cos()), sin = FloatArray.fromArray(rope.sin());
            IntArray pos = new IntArray(N);
            Graph g = new Graph("rope", transfers).everyRun(xs, pos).firstRun(cos, sin);
            g.tasks.task("t", PointwiseKernels::rope, xs, pos, cos, sin, sign, N, H, HS, half, stride, partner);
            return new Staged(g.back(xs).seal(), new FloatArray[] {xs}, new IntArray[] {pos});
        });
        put(s.f[0], x, N * H * HS);
        ints(s.i[0], positions, N);
        s.graph.execute();
        get(s.f[0], x, N * H * HS);
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
        Staged s = graph(List.of("attentionForward", B, T, maxT, NH, KV, HS, keep), k -> {
            FloatArray o = floats(B * T * NH * HS), p = floats((long) B * NH * T * maxT), qs = floats(B * T * NH * HS),
                    ks = floats((long) B * maxT * KV * HS), vs = floats((long) B * maxT * KV * HS);
            IntArray params = new IntArray(1);
            Graph g = new Graph("attentionForward", transfers).everyRun(qs, ks, vs, params);
            if (!keep) {
                g.firstRun(p); // device-only scratch for the probabilities
            }
            g.tasks.task("t", AttentionKernels::forward, o, p, qs, ks, vs, params, scale, B * NH, T, maxT, NH, KV, HS);
            g.back(o);
            if (keep) {
                g.back(p);
            }
            return new Staged(g.seal(), new FloatArray[] {o, p, qs, ks, vs}, new IntArray[] {params});
        });
        put(s.f[2], q, B * T * NH * HS);
        put(s.f[3], kCache, (long) B * maxT * KV * HS);
        put(s.f[4], vCache, (long) B * maxT * KV * HS);
        s.i[0].set(0, pos0);
        s.graph.execute();
        get(s.f[0], out, B * T * NH * HS);
        if (keep) {
            get(s.f[1], att, (long) B * NH * T * maxT);
        }
    }

    @Override
    public synchronized void attentionBackward(Tensor dq, Tensor dk, Tensor dv, Tensor dout, Tensor att, Tensor q,
                                               Tensor k, Tensor v, int B, int T, int NH, int KV, int HS) {
        if (B == 0 || T == 0) {
            return;
        }
        float scale = (float) (1.0 / Math.sqrt(HS));
        int nq = B * T * NH * HS, nkv = B * T * KV * HS, np = B * NH * T * T;
        Staged s = graph(List.of("attentionBackward", B, T, NH, KV, HS), key -> {
            FloatArray gq = floats(nq), gk = floats(nkv), gv = floats(nkv), dy = floats(nq), p = floats(np),
                    qs = floats(nq), ks = floats(nkv), vs = floats(nkv), dS = floats(np);
            Graph g = new Graph("attentionBackward", transfers).everyRun(gq, gk, gv, dy, p, qs, ks, vs).firstRun(dS);
            g.tasks.task("scores", AttentionKernels::backwardScores, dS, dy, p, vs, scale, B * NH, T, NH, KV, HS)
                    .task("dq", AttentionKernels::backwardQuery, gq, dS, ks, B * T * NH, T, NH, KV, HS)
                    .task("dkv", AttentionKernels::backwardKeyValue, gk, gv, dS, p, qs, dy, B * T * KV, T, NH, KV, HS);
            return new Staged(g.back(gq, gk, gv).seal(), gq, gk, gv, dy, p, qs, ks, vs);
        });
        put(s.f[0], dq, nq);
        put(s.f[1], dk, nkv);
        put(s.f[2], dv, nkv);
        put(s.f[3], dout, nq);
        put(s.f[4], att, np);
        put(s.f[5], q, nq);
        put(s.f[6], k, nkv);
        put(s.f[7], v, nkv);
        s.graph.execute();
        get(s.f[0], dq, nq);
        get(s.f[1], dk, nkv);
        get(s.f[2], dv, nkv);
    }

    @Override
    public synchronized void swigluForward(Tensor out, Tensor gate, Tensor up, int N, int C) {
        int n = Math.multiplyExact(N, C);
        if (n == 0) {
            return;
        }
        Staged s = graph(List.of("swigluForward", n), k -> {
            FloatArray o = floats(n), gt = floats(n), u = floats(n);
            Graph g = new Graph("swigluForward", transfers).everyRun(gt, u);
            g.tasks.task("t", PointwiseKernels::swigluForward, o, gt, u, n);
            return new Staged(g.back(o).seal(), o, gt, u);
        });
        put(s.f[1], gate, n);
        put(s.f[2], up, n);
        s.graph.execute();
        get(s.f[0], out, n);
    }

    @Override
    public synchronized void swigluBackward(Tensor dgate, Tensor dup, Tensor dout, Tensor gate, Tensor up, int N, int C) {
        int n = Math.multiplyExact(N, C);
        if (n == 0 || (dgate == null && dup == null)) {
            return;
        }
        boolean wantGate = dgate != null, wantUp = dup != null;
        Staged s = graph(List.of("swigluBackward", n, wantGate, wantUp), k -> {
            FloatArray dg = floats(n), du = floats(n), dy = floats(n), gt = floats(n), u = floats(n);
            Graph g = new Graph("swigluBackward", transfers).everyRun(dy, gt);
            if (wantGate) {
                g.everyRun(dg, u).tasks.task("dgate", PointwiseKernels::swigluBackwardGate, dg, dy, gt, u, n);
                g.back(dg);
            }
            if (wantUp) {
                g.everyRun(du).tasks.task("dup", PointwiseKernels::swigluBackwardUp, du, dy, gt, n);
                g.back(du);
            }
            return new Staged(g.seal(), dg, du, dy, gt, u);
        });
        put(s.f[2], dout, n);
        put(s.f[3], gate, n);
        if (wantGate) {
            put(s.f[0], dgate, n);
            put(s.f[4], up, n);
        }
        if (wantUp) {
            put(s.f[1], dup, n);
        }
        s.graph.execute();
        if (wantGate) {
            get(s.f[0], dgate, n);
        }
        if (wantUp) {
            get(s.f[1], dup, n);
        }
    }

    @Override
    public synchronized void add(Tensor out, Tensor inp, long n) {
        int m = Math.toIntExact(n);
        if (m == 0) {
            return;
        }
        Staged s = graph(List.of("add", m), k -> {
            FloatArray o = floats(m), x = floats(m);
            Graph g = new Graph("add", transfers).everyRun(o, x);
            g.tasks.task("t", PointwiseKernels::add, o, x, m);
            return new Staged(g.back(o).seal(), o, x);
        });
        put(s.f[0], out, m);
        put(s.f[1], inp, m);
        s.graph.execute();
        get(s.f[0], out, m);
    }

    @Override
    public synchronized void scale(Tensor x, float sc, long n) {
        int m = Math.toIntExact(n);
        if (m == 0) {
            return;
        }
        Staged s = graph(List.of("scale", m), k -> {
            FloatArray xs = floats(m), params = floats(1);
            Graph g = new Graph("scale", transfers).everyRun(xs, params);
            g.tasks.task("t", PointwiseKernels::scale, xs, params, m);
            return new Staged(g.back(xs).seal(), xs, params);
        });
        put(s.f[0], x, m);
        s.f[1].set(0, sc);
        s.graph.execute();
        get(s.f[0], x, m);
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
        Staged s = graph(List.of("embeddingForward", N, C, tw), k -> {
            FloatArray o = floats(N * C);
            IntArray tok = new IntArray(N);
            Graph g = new Graph("embeddingForward", transfers).everyRun(tok);
            weightIn(g, tw);
            g.tasks.task("t", LinearKernels::embeddingForward, o, tok, tw.data, N, C);
            return new Staged(g.back(o).seal(), new FloatArray[] {o}, new IntArray[] {tok});
        });
        ints(s.i[0], tokens, N);
        s.graph.execute();
        get(s.f[0], out, N * C);
    }

    @Override
    public synchronized void embeddingBackward(Tensor dtable, Tensor dout, int[] tokens, int N, int C) {
        int V = Math.toIntExact(dtable.size() / C);
        checkTokens(tokens, N, V);
        if (N == 0 || C == 0) {
            return;
        }
        Staged s = graph(List.of("embeddingBackward", N, C, V), k -> {
            FloatArray dt = floats(V * C), dy = floats(N * C);
            IntArray tok = new IntArray(N);
            Graph g = new Graph("embeddingBackward", transfers).everyRun(dt, dy, tok);
            g.tasks.task("t", LinearKernels::embeddingBackward, dt, dy, tok, N, C);
            return new Staged(g.back(dt).seal(), new FloatArray[] {dt, dy}, new IntArray[] {tok});
        });
        put(s.f[0], dtable, V * C);
        put(s.f[1], dout, N * C);
        ints(s.i[0], tokens, N);
        s.graph.execute();
        get(s.f[0], dtable, V * C);
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
        Staged s = graph(List.of("logprobForward", N, C, V, tw), k -> {
            FloatArray lp = floats(N), l = floats(N), sum = floats(N), hs = floats(N * C);
            FloatArray pm = floats(N * nch), ps = floats(N * nch), psum = floats(N * nch), ptgt = floats(N * nch);
            IntArray tgt = new IntArray(N);
            Graph g = new Graph("logprobForward", transfers).everyRun(hs, tgt).firstRun(pm, ps, psum, ptgt);
            weightIn(g, tw);
            g.tasks.task("chunks", LogprobKernels::forwardChunks, pm, ps, psum, ptgt, hs, tw.data, tgt, N, C, V,
                            LOGPROB_CHUNK, nch)
                    .task("merge", LogprobKernels::forwardMerge, lp, l, sum, pm, ps, psum, ptgt, tgt, N,
                            LOGPROB_CHUNK, nch);
            return new Staged(g.back(lp, l, sum).seal(), new FloatArray[] {lp, l, sum, hs}, new IntArray[] {tgt});
        });
        put(s.f[3], h, N * C);
        ints(s.i[0], targets, N);
        s.graph.execute();
        get(s.f[0], logp, N);
        get(s.f[1], lse, N);
        get(s.f[2], logitSum, N);
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
        Staged s = graph(List.of("logprobBackward", N, C, V, tw), k -> {
            FloatArray gh = floats(N * C), dl = floats(N), hs = floats(N * C), l = floats(N);
            IntArray tgt = new IntArray(N);
            Graph g = new Graph("logprobBackward", transfers).everyRun(gh, dl, hs, l, tgt);
            weightIn(g, tw);
            g.tasks.task("t", LogprobKernels::backward, gh, dl, hs, tw.data, l, tgt, N, C, V, cb, blocks);
            return new Staged(g.back(gh).seal(), new FloatArray[] {gh, dl, hs, l}, new IntArray[] {tgt});
        });
        put(s.f[0], dh, N * C);
        put(s.f[1], dlogp, N);
        put(s.f[2], h, N * C);
        put(s.f[3], lse, N);
        ints(s.i[0], targets, N);
        s.graph.execute();
        get(s.f[0], dh, N * C);
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
        Staged s = graph(List.of("adamw", len), k -> {
            FloatArray p = floats(len), g = floats(len), ms = floats(len), vs = floats(len), params = floats(6);
            Graph gr = new Graph("adamw", transfers).everyRun(p, g, ms, vs, params);
            gr.tasks.task("t", PointwiseKernels::adamw, p, g, ms, vs, params, len);
            return new Staged(gr.back(p, ms, vs).seal(), p, g, ms, vs, params);
        });
        put(s.f[0], param, len);
        put(s.f[1], grad, len);
        put(s.f[2], m, len);
        put(s.f[3], v, len);
        // The bias corrections are computed in double on the host, as the cpu backend does.
        FloatArray params = s.f[4];
        params.set(0, 1f - lr * weightDecay);
        params.set(1, (float) (lr / (1 - Math.pow(beta1, step))));
        params.set(2, (float) Math.sqrt(1 - Math.pow(beta2, step)));
        params.set(3, beta1);
        params.set(4, beta2);
        params.set(5, eps);
        s.graph.execute();
        get(s.f[0], param, len);
        get(s.f[2], m, len);
        get(s.f[3], v, len);
    }

    @Override
    public synchronized double sumOfSquares(Tensor t, long n) {
        int len = Math.toIntExact(n);
        if (len == 0) {
            return 0;
        }
        int blocks = (len + PointwiseKernels.SUMSQ_BLOCK - 1) / PointwiseKernels.SUMSQ_BLOCK;
        Staged s = graph(List.of("sumOfSquares", len), k -> {
            FloatArray partial = floats(blocks), x = floats(len);
            Graph g = new Graph("sumOfSquares", transfers).everyRun(x);
            g.tasks.task("t", PointwiseKernels::sumOfSquares, partial, x, len, blocks);
            return new Staged(g.back(partial).seal(), partial, x);
        });
        put(s.f[1], t, len);
        s.graph.execute();
        double total = 0;
        for (int b = 0; b < blocks; b++) {
            total += s.f[0].get(b);
        }
        return total;
    }

    // --- helpers

    /** A graph's staging arrays: f (float) and i (int), in the order its builder lists them. */
    private record Staged(Graph graph, FloatArray[] f, IntArray[] i) {
        Staged(Graph graph, FloatArray... f) {
            this(graph, f, new IntArray[0]);
        }
    }

    private Staged graph(List<Object> key, Function<List<Object>, Staged> build) {
        return graphs.computeIfAbsent(key, build);
    }

    private static void weightIn(Graph g, TornadoWeight w) {
        if (w.live) {
            g.everyRun(w.data);
        } else {
            g.firstRun(w.data);
        }
    }

    private static FloatArray floats(long n) {
        return new FloatArray(Math.toIntExact(Math.max(1, n)));
    }

    private static void put(FloatArray staging, Tensor src, long n) {
        TornadoTensor t = of(src);
        check(t, 0, n);
        MemorySegment.copy(t.data.getSegment(), 0, staging.getSegment(), 0, 4 * n);
    }

    private static void get(FloatArray staging, Tensor dst, long n) {
        TornadoTensor t = of(dst);
        check(t, 0, n);
        MemorySegment.copy(staging.getSegment(), 0, t.data.getSegment(), 0, 4 * n);
    }

    private static void ints(IntArray dst, int[] src, int n) {
        if (src.length < n) {
            throw new IllegalArgumentException("need " + n + " ids, got " + src.length);
        }
        MemorySegment.copy(src, 0, dst.getSegment(), ValueLayout.JAVA_INT, 0, n);
    }

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
