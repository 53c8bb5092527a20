package org.pairwise.accel.tornado;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.IdentityHashMap;
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
 * <p>Data movement: a tensor's host copy is an off-heap {@link FloatArray}; a view is its base from an offset. Kernel
 * calls are recorded as {@link Op}s (built by {@link LinearCalls}, {@link AttentionCalls}, {@link PointwiseCalls}),
 * not run; a recorded sequence runs when the host needs one of its tensors, and a sequence that repeats runs as one
 * compiled {@link Fused} whose intermediates stay on the device ({@link Recorder}). What a run writes stays there
 * until the host downloads it or another sequence needs it ({@link Residency}); frozen weights go down once per
 * compiled sequence. {@link #transfers()} counts every copy.
 *
 * <p>Calls are serialised: TornadoVM execution plans are not safe to run concurrently.
 */
public final class TornadoBackend implements Backend {
    private final Transfers transfers = new Transfers();
    private final Recorder recorder;
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
        this(threads, Sequences.MAX_BYTES);
    }

    /** With a cap on the device bytes compiled sequences hold together (see {@link Sequences#MAX_BYTES}). */
    TornadoBackend(int threads, long maxCompiledBytes) {
        this.device = TornadoRuntimeProvider.getTornadoRuntime().getDefaultDevice();
        this.recorder = new Recorder(transfers, maxCompiledBytes);
    }

    /** Records a call (null: nothing to do); without fusion it runs at once. */
    private void record(Op op) {
        if (op == null) {
            return;
        }
        recorder.record(op);
        if (!fuse) {
            recorder.flush();
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
        recorder.flush();
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
        return recorder.compiled();
    }

    /** Tensors (whole buffers: a view counts as its base) the residency bookkeeping refers to. */
    synchronized int tracked() {
        return recorder.tracked();
    }

    /** Device bytes the compiled sequences hold together. */
    public synchronized long compiledBytes() {
        return recorder.compiledBytes();
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
    public Tensor view(Tensor base, long offset, long size) {
        TornadoTensor.base(base);
        return Backend.super.view(base, offset, size);
    }

    @Override
    public synchronized void upload(Tensor dst, long dstOff, float[] src, int srcOff, int n) {
        Tensor.checkRange(dst, dstOff, n);
        TornadoTensor base = TornadoTensor.base(dst);
        long at = TornadoTensor.offset(dst) + dstOff;
        recorder.hostWrites(base, at == 0 && n == base.size());
        MemorySegment.copy(src, srcOff, base.data.getSegment(), ValueLayout.JAVA_FLOAT, 4 * at, n);
    }

    @Override
    public synchronized void download(Tensor src, long srcOff, float[] dst, int dstOff, int n) {
        Tensor.checkRange(src, srcOff, n);
        TornadoTensor base = TornadoTensor.base(src);
        recorder.hostReads(base);
        MemorySegment.copy(base.data.getSegment(), ValueLayout.JAVA_FLOAT, 4 * (TornadoTensor.offset(src) + srcOff), dst,
                dstOff, n);
    }

    @Override
    public synchronized void copy(Tensor dst, long dstOff, Tensor src, long srcOff, long n) {
        record(PointwiseCalls.copy(dst, dstOff, src, srcOff, n));
    }

    @Override
    public synchronized void zero(Tensor t) {
        record(PointwiseCalls.zero(t));
    }

    @Override
    public Weight weight(MemorySegment data, DType dtype, int rows, int cols) {
        dtype.checkMatrix(data, rows, cols);
        return TornadoWeight.frozen(data, dtype, rows, cols);
    }

    @Override
    public Weight weightOf(Tensor t, int rows, int cols) {
        return TornadoWeight.view(t, rows, cols);
    }

    @Override
    public synchronized void close() {
        recorder.close(); // tensors read after close see their last values
    }

    // --- kernels: each is recorded as the Op its *Calls builder makes (arguments checked now)

    @Override
    public synchronized void matmulForward(Tensor out, Tensor inp, Weight w, Tensor bias, int N, int C, int OC) {
        record(LinearCalls.matmulForward(out, inp, w, bias, N, C, OC));
    }

    @Override
    public synchronized void matmulBackward(Tensor dinp, Tensor dbias, Tensor dout, Weight w, int N, int C, int OC) {
        record(LinearCalls.matmulBackward(dinp, dbias, dout, w, N, C, OC));
    }

    @Override
    public synchronized void matmulBackwardWeight(Tensor dw, Tensor dout, Tensor inp, int N, int C, int OC) {
        record(LinearCalls.matmulBackwardWeight(dw, dout, inp, N, C, OC));
    }

    @Override
    public synchronized void rmsnormForward(Tensor out, Tensor rstd, Tensor inp, Tensor w, float eps, int N, int C) {
        record(LinearCalls.rmsnormForward(out, rstd, inp, w, eps, N, C));
    }

    @Override
    public synchronized void rmsnormBackward(Tensor dinp, Tensor dw, Tensor dout, Tensor inp, Tensor rstd, Tensor w,
                                             int N, int C) {
        record(LinearCalls.rmsnormBackward(dinp, dw, dout, inp, rstd, w, N, C));
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
        FloatArray[] table = ropeTables.computeIfAbsent(rope,
                r -> new FloatArray[] {FloatArray.fromArray(r.cos()), FloatArray.fromArray(r.sin())});
        record(AttentionCalls.rope(x, positions, rope, table, N, H, HS, sign));
    }

    @Override
    public synchronized void attentionForward(Tensor out, Tensor att, Tensor q, Tensor kCache, Tensor vCache,
                                              int B, int T, int pos0, int maxT, int NH, int KV, int HS) {
        record(AttentionCalls.forward(out, att, q, kCache, vCache, B, T, pos0, maxT, NH, KV, HS));
    }

    @Override
    public synchronized void attentionBackward(Tensor dq, Tensor dk, Tensor dv, Tensor dout, Tensor att, Tensor q,
                                               Tensor k, Tensor v, int B, int T, int NH, int KV, int HS) {
        record(AttentionCalls.backward(dq, dk, dv, dout, att, q, k, v, B, T, NH, KV, HS));
    }

    @Override
    public synchronized void swigluForward(Tensor out, Tensor gate, Tensor up, int N, int C) {
        record(PointwiseCalls.swigluForward(out, gate, up, N, C));
    }

    @Override
    public synchronized void swigluBackward(Tensor dgate, Tensor dup, Tensor dout, Tensor gate, Tensor up, int N, int C) {
        record(PointwiseCalls.swigluBackward(dgate, dup, dout, gate, up, N, C));
    }

    @Override
    public synchronized void add(Tensor out, Tensor inp, long n) {
        record(PointwiseCalls.add(out, inp, n));
    }

    @Override
    public synchronized void scale(Tensor x, float s, long n) {
        record(PointwiseCalls.scale(x, s, n));
    }

    @Override
    public synchronized void embeddingForward(Tensor out, int[] tokens, Weight table, int N, int C) {
        record(LinearCalls.embeddingForward(out, tokens, table, N, C));
    }

    @Override
    public synchronized void logprobForward(Tensor logp, Tensor lse, Tensor logitSum, Tensor h, Weight w,
                                            int[] targets, int N, int C, int V) {
        record(LinearCalls.logprobForward(logp, lse, logitSum, h, w, targets, N, C, V));
    }

    @Override
    public synchronized void logprobBackward(Tensor dh, Tensor dlogp, Tensor h, Weight w, Tensor lse, int[] targets,
                                             int N, int C, int V) {
        record(LinearCalls.logprobBackward(dh, dlogp, h, w, lse, targets, N, C, V));
    }

    @Override
    public synchronized void adamwUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, long n, float lr, float beta1,
                                         float beta2, float eps, float weightDecay, int step) {
        record(PointwiseCalls.adamw(param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, step));
    }

    /**
     * The gradient norm's sum (over the gradients' flat buffer, say). When no recorded call uses t, its value is on the
     * host or one fetch away, and is summed there (in double, as the cpu backend does): on the device it would cost
     * the fetch, the copy back down into this call's graph and the partial sums up. Otherwise t is summed on the device
     * at the end of the recorded sequence, and only the partial sums come back, t itself staying there.
     */
    @Override
    public synchronized double sumOfSquares(Tensor t, long n) {
        Tensor.checkRange(t, 0, n);
        int len = Math.toIntExact(n);
        if (len == 0) {
            return 0;
        }
        TornadoTensor base = TornadoTensor.base(t);
        double total = 0;
        if (!recorder.pending(base)) {
            recorder.hostReads(base);
            MemorySegment seg = base.data.getSegment();
            long off = TornadoTensor.offset(t);
            for (long i = off; i < off + len; i++) {
                double x = seg.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                total += x * x;
            }
            return total;
        }
        Op o = PointwiseCalls.sumOfSquares(t, len);
        recorder.record(o);
        recorder.flush();
        for (float partial : o.result) {
            total += partial;
        }
        return total;
    }
}
