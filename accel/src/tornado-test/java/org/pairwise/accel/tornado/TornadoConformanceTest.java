package org.pairwise.accel.tornado;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.pairwise.accel.Backend;
import org.pairwise.accel.BackendConformance;
import org.pairwise.accel.Backends;
import org.pairwise.accel.DType;
import org.pairwise.accel.Tensor;
import org.pairwise.accel.TensorView;
import org.pairwise.accel.Weight;

/**
 * The conformance suite on TornadoVM's default device (PoCL's CPU device here), plus its residency: the exact
 * host-device copies of a call, of a repeated chain of calls, and of a repeated chain long enough to need several
 * graphs, so that a change that sends intermediates back to the host fails here.
 */
class TornadoConformanceTest extends BackendConformance {
    @Override
    protected Backend open() {
        Backend b = Backends.open("tornadovm", 2);
        System.out.println("tornadovm conformance on " + ((TornadoBackend) b).device());
        return b;
    }

    @Test
    void frozenWeightsCrossOnceAndEveryCopyIsCounted() {
        TornadoBackend b = (TornadoBackend) backend();
        int N = 3, C = 11, OC = 5;
        Random r = new Random(20);
        Weight w = b.weight(store(random(r, OC * C, 1), DType.F32), DType.F32, OC, C);
        Tensor x = b.upload(random(r, N * C, 1)), bias = b.upload(random(r, OC, 1)), out = b.allocate(N * OC);
        float[] got = new float[N * OC];
        Transfers.Snapshot t0 = b.transfers();
        b.matmulForward(out, x, w, bias, N, C, OC);
        b.download(out, 0, got, 0, N * OC);
        Transfers.Snapshot first = b.transfers().minus(t0);
        b.matmulForward(out, x, w, bias, N, C, OC);
        b.download(out, 0, got, 0, N * OC);
        Transfers.Snapshot second = b.transfers().minus(t0).minus(first);
        // first run: input, bias and the weight go down, the output comes back when downloaded; later runs leave the
        // weight there
        assertEquals(new Transfers.Snapshot(3, 1, 4L * (N * C + OC + OC * C), 4L * N * OC, 1), first);
        assertEquals(new Transfers.Snapshot(2, 1, 4L * (N * C + OC), 4L * N * OC, 1), second);
    }

    @Test
    void freshTensorsEveryStepDoNotPileUpInTheResidencyBookkeeping() {
        TornadoBackend b = (TornadoBackend) backend();
        int N = 4, C = 9, OC = 7;
        Random r = new Random(23);
        float[] wv = random(r, OC * C, 1), xv = random(r, N * C, 1), nv = random(r, OC, 1), rv = random(r, N * OC, 1);
        float[] want = Chain.onCpu(wv, xv, nv, rv, N, C, OC);
        Weight w = b.weight(store(wv, DType.F32), DType.F32, OC, C);
        int[] trackedAt = new int[40];
        for (int step = 0; step < trackedAt.length; step++) {
            // every step uploads new inputs and allocates new outputs, as a training step's dlogp and KV cache do
            Chain c = new Chain(b, w, b.upload(xv), b.upload(nv), b.upload(rv), b.allocate(N * OC), b.allocate(N * OC),
                    b.allocate(N), N, C, OC);
            assertClose("step " + step, want, c.run(), 1e-5);
            trackedAt[step] = b.tracked();
        }
        assertTrue(trackedAt[39] <= trackedAt[9], "tracked tensors grew: " + Arrays.toString(trackedAt));
    }

    @Test
    void aRepeatedChainKeepsItsIntermediatesOnTheDevice() {
        TornadoBackend b = (TornadoBackend) backend();
        int N = 4, C = 9, OC = 7;
        Random r = new Random(21);
        float[] wv = random(r, OC * C, 1), xv = random(r, N * C, 1), nv = random(r, OC, 1), rv = random(r, N * OC, 1);
        float[] want = Chain.onCpu(wv, xv, nv, rv, N, C, OC);
        Chain chain = new Chain(b, wv, xv, nv, rv, N, C, OC);
        Transfers.Snapshot[] copies = new Transfers.Snapshot[4];
        for (int run = 0; run < 4; run++) {
            Transfers.Snapshot t0 = b.transfers();
            assertClose("run " + run, want, chain.run(), 1e-5);
            copies[run] = b.transfers().minus(t0);
        }
        // first run, call by call: matmul (x, W and the unused bias slot down), rmsnorm (h back from the matmul's
        // plan, then h and norm down), add (y back from rmsnorm's plan, then y and res down), then y up; rstd stays
        assertEquals(new Transfers.Snapshot(7, 3, 4L * (N * C + OC * C + 1 + N * OC + OC + N * OC + N * OC),
                4L * 3 * N * OC, 3), copies[0]);
        // second run, one compiled sequence: x, norm and res go down (W and the bias slot on its first run only), h,
        // rstd and y stay on the device, and only the downloaded y comes back
        assertEquals(new Transfers.Snapshot(5, 1, 4L * (N * C + OC * C + 1 + OC + N * OC), 4L * N * OC, 1), copies[1]);
        // third run: rebuilt with x, norm and res resident (unchanged since they went down); the old plan gives back
        // h and rstd, the new one's load graph sends the inputs once more
        assertEquals(new Transfers.Snapshot(5, 3, 4L * (N * C + OC * C + 1 + OC + N * OC), 4L * (2 * N * OC + N), 2),
                copies[2]);
        // from then on nothing goes down, and only the downloaded y comes back
        assertEquals(new Transfers.Snapshot(0, 1, 0, 4L * N * OC, 1), copies[3]);
    }

    @Test
    void aLongRepeatedChainRunsAsSeveralGraphsWithoutHostCopiesBetweenThem() {
        TornadoBackend b = (TornadoBackend) backend();
        int n = 10, steps = 3 * Chunker.MAX_TASKS;
        Random r = new Random(22);
        float[] xv = random(r, n, 1), sv = random(r, n, 1);
        Backend cpu = Backends.open("cpu", 1);
        float[] want = new LongChain(cpu, xv, sv, steps).run();
        cpu.close();
        LongChain chain = new LongChain(b, xv, sv, steps);
        Transfers.Snapshot[] copies = new Transfers.Snapshot[4];
        for (int run = 0; run < 4; run++) {
            Transfers.Snapshot t0 = b.transfers();
            assertClose("run " + run, want, chain.run(), 1e-5);
            copies[run] = b.transfers().minus(t0);
        }
        // compiled (runs 2 and 3): x, s and the scale factors (all calls' in one array) go down, acc is zeroed on the
        // device, s is carried from the first graph to the last one through every graph in between, and only acc
        // comes back
        assertEquals(3, copies[1].toDevice());
        assertEquals(1, copies[1].toHost());
        assertEquals(new Transfers.Snapshot(3, 1, 4L * (2 * n + steps / 2), 4L * n, copies[2].executions()), copies[2]);
        // from the fourth run x and s are resident: only the factors go down
        assertEquals(new Transfers.Snapshot(1, 1, 4L * (steps / 2), 4L * n, copies[3].executions()), copies[3]);
        assertTrue(copies[3].executions() >= 3, "a chain of " + steps + " calls needs several graphs, ran "
                + copies[3].executions());
    }

    @Test
    void anOptimizerLoopKeepsParametersAndMomentsOnTheDevice() {
        TornadoBackend b = (TornadoBackend) backend();
        int N = 3, C = 8, OC = 6, runs = 4;
        Random r = new Random(23);
        float[] pv = random(r, OC * C, 1), gv = random(r, OC * C, 1), xv = random(r, N * C, 1);
        Backend cpu = Backends.open("cpu", 1);
        Optimizer want = new Optimizer(cpu, pv, gv, xv, N, C, OC);
        float[][] wantOut = new float[runs][];
        for (int run = 0; run < runs; run++) {
            wantOut[run] = want.run(run + 1);
        }
        float[] wantP = cpu.download(want.p());
        cpu.close();
        Optimizer opt = new Optimizer(b, pv, gv, xv, N, C, OC);
        Transfers.Snapshot[] copies = new Transfers.Snapshot[runs];
        for (int run = 0; run < runs; run++) {
            Transfers.Snapshot t0 = b.transfers();
            assertClose("run " + run, wantOut[run], opt.run(run + 1), 1e-5);
            copies[run] = b.transfers().minus(t0);
        }
        assertClose("parameters", wantP, b.download(opt.p()), 1e-6);
        long n = OC * C;
        // run 1, call by call: adamw (p, g, m, v and its factors down), matmul (p back from adamw's plan, then p and x
        // down, and the unused bias slot), out up
        assertEquals(new Transfers.Snapshot(8, 2, 4L * (5 * n + 6 + N * C + 1), 4L * (n + N * OC), 2), copies[0]);
        // run 2, compiled: m and v come back from adamw's plan and go down with p, g, x and the factors
        assertEquals(new Transfers.Snapshot(7, 3, 4L * (4 * n + N * C + 6 + 1), 4L * (2 * n + N * OC), 1), copies[1]);
        // run 3 rebuilds it with p, m, v (written back) and g, x (unchanged) resident: p, m and v come back from the
        // old plan and the new one's load graph sends all five down once more
        assertEquals(new Transfers.Snapshot(7, 4, 4L * (4 * n + N * C + 6 + 1), 4L * (3 * n + N * OC), 2), copies[2]);
        // from then on only the step's factors go down and out comes back
        assertEquals(new Transfers.Snapshot(1, 1, 4L * 6, 4L * N * OC, 1), copies[3]);
    }

    @Test
    void aTrainingStepWithTheLossOnTheHostKeepsEverythingButTheLossTermsOnTheDevice() {
        TornadoBackend b = (TornadoBackend) backend();
        int N = 5, C = 6, OC = 4, steps = 10; // shapes of its own: compiled calls are shared within the suite
        Random r = new Random(24);
        float[] pv = random(r, OC * C, 0.5), xv = random(r, N * C, 1), nv = random(r, OC, 1), tv = random(r, N * OC, 1);
        Backend cpu = Backends.open("cpu", 1);
        Step want = new Step(cpu, pv, xv, nv, tv, N, C, OC);
        double[] wantNorm = new double[steps];
        for (int i = 0; i < steps; i++) {
            wantNorm[i] = want.run(i);
        }
        float[] wantP = cpu.download(want.p());
        cpu.close();
        Step step = new Step(b, pv, xv, nv, tv, N, C, OC);
        Transfers.Snapshot[] copies = new Transfers.Snapshot[steps];
        for (int i = 0; i < steps; i++) {
            Transfers.Snapshot t0 = b.transfersSoFar();
            double norm = step.run(i);
            assertEquals(wantNorm[i], norm, 1e-4 * (1 + wantNorm[i]), "gradient norm, step " + i);
            copies[i] = b.transfersSoFar().minus(t0);
        }
        assertClose("parameters", wantP, b.download(step.p()), 1e-5);
        // Steps alternate [AdamW, zero, forward] and [backward, norm], with the loss on the host between them. Once
        // both are compiled as one pair (p, m, v, the gradient, x and norm resident; h, rstd and dh carried from the
        // forward to the backward), a step sends AdamW's factors and the host's dy down and brings y and the norm's
        // partial sums up.
        for (int i = steps - 2; i < steps; i++) {
            String all = Arrays.toString(copies);
            assertEquals(2, copies[i].toDevice(), "copies to the device, step " + i + ": " + all);
            assertEquals(2, copies[i].toHost(), "copies to the host, step " + i + ": " + all);
        }
    }

    @Test
    void aGradientNormOverAFlatBufferBringsBackOnlyThePartialSums() {
        TornadoBackend b = (TornadoBackend) backend();
        long[] sizes = {300, 7, 1031}; // sizes of their own: compiled calls are shared within the suite
        int runs = 4, n = (int) Arrays.stream(sizes).sum();
        int blocks = (n + PointwiseKernels.SUMSQ_BLOCK - 1) / PointwiseKernels.SUMSQ_BLOCK;
        float[] xv = random(new Random(25), n, 1);
        Backend cpu = Backends.open("cpu", 1);
        List<Tensor> want = TensorView.tile(cpu, cpu.upload(xv), sizes), got = TensorView.tile(b, b.upload(xv), sizes);
        double[] wantSum = new double[runs];
        for (int run = 0; run < runs; run++) {
            wantSum[run] = scaledSum(cpu, want, run);
        }
        cpu.close();
        Transfers.Snapshot[] copies = new Transfers.Snapshot[runs];
        for (int run = 0; run < runs; run++) {
            Transfers.Snapshot t0 = b.transfersSoFar();
            assertEquals(wantSum[run], scaledSum(b, got, run), 1e-5 * wantSum[run], "run " + run);
            copies[run] = b.transfersSoFar().minus(t0);
        }
        String all = Arrays.toString(copies);
        assertEquals(6, blocks);
        // Each run scales the three views (recorded, not run) and asks for the sum over their buffer: one sequence
        // [scale x3, sum], whose sum writes one partial per block of the buffer. The buffer is never fetched for the
        // sum: only the partials come back, in one copy. Run 0 runs call by call (each call its own plan, so the
        // buffer crosses between plans).
        // Run 1, compiled: the buffer and the scale factors go down, the partials come back.
        assertEquals(new Transfers.Snapshot(2, 1, 4L * (n + sizes.length), 4L * blocks, 1), copies[1], all);
        // run 2 rebuilds it with the buffer resident (scaled in place): the old plan gives the buffer back before it
        // goes (it came back for that, not for the sum), the new one's load graph sends it down again
        assertEquals(new Transfers.Snapshot(2, 2, 4L * (n + sizes.length), 4L * (n + blocks), 2), copies[2], all);
        // from then on only the three scale factors go down and the partials come back
        assertEquals(new Transfers.Snapshot(1, 1, 4L * sizes.length, 4L * blocks, 1), copies[3], all);
    }

    /** Scales each view of the buffer by a factor of the run (recorded: the buffer is being computed), then sums it. */
    private static double scaledSum(Backend be, List<Tensor> views, int run) {
        for (Tensor t : views) {
            be.scale(t, 0.5f + run, t.size());
        }
        Tensor buffer = TensorView.tiled(views);
        return be.sumOfSquares(buffer, buffer.size());
    }

    /** y = rmsnorm(x W^T) + res, one kernel call per stage, on tensors allocated once so repeats are one sequence. */
    @Test
    void compiledSequencesPastTheDeviceByteCapGoLeastRecentlyUsedFirstAndGiveTheirValuesBack() {
        int N = 4, C = 9, OC = 7;
        Random r = new Random(22);
        float[] wv = random(r, OC * C, 1), xv = random(r, N * C, 1), nv = random(r, OC, 1), rv = random(r, N * OC, 1);
        float[] wv2 = random(r, OC * C * 2, 1), xv2 = random(r, N * C * 2, 1);
        float[] want = Chain.onCpu(wv, xv, nv, rv, N, C, OC), want2 = Chain.onCpu(wv2, xv2, nv, rv, N, 2 * C, OC);
        long one;
        try (TornadoBackend probe = new TornadoBackend(1)) {
            Chain c = new Chain(probe, wv, xv, nv, rv, N, C, OC);
            c.run();
            c.run();
            one = probe.compiledBytes();
        }
        assertTrue(one > 4L * OC * C, "a compiled chain holds at least its weight: " + one);
        // room for one compiled chain, not two: uncapped, the same work holds more
        long cap = one + one / 2;
        long[] uncapped = chainsApart(new TornadoBackend(1), wv, xv, wv2, xv2, nv, rv, want, want2);
        assertTrue(uncapped[0] > cap, "uncapped: " + uncapped[0] + " bytes in " + uncapped[1] + " sequences");
        long[] capped = chainsApart(new TornadoBackend(1, cap), wv, xv, wv2, xv2, nv, rv, want, want2);
        // over the cap only when the sequence in use is all that is left
        assertTrue(capped[0] <= cap || capped[1] == 1, "capped: " + capped[0] + " bytes in " + capped[1]
                + " sequences, cap " + cap);
        assertTrue(capped[1] < uncapped[1], capped[1] + " sequences held against " + uncapped[1]);
    }

    /** Runs two chains of different widths by turns, each twice; returns {compiled bytes, sequences} held. */
    private static long[] chainsApart(TornadoBackend b, float[] wv, float[] xv, float[] wv2, float[] xv2, float[] nv,
                                    float[] rv, float[] want, float[] want2) {
        int N = 4, C = 9, OC = 7;
        try (b) {
            Chain small = new Chain(b, wv, xv, nv, rv, N, C, OC), wide = new Chain(b, wv2, xv2, nv, rv, N, 2 * C, OC);
            // a one-call sequence between the chains keeps them from being compiled as a pair (pairs are not evicted)
            Tensor apart = b.upload(new float[] {1f});
            Runnable separate = () -> {
                b.scale(apart, 1f, 1);
                b.download(apart);
            };
            for (int round = 0; round < 3; round++) {
                assertClose("small, round " + round, want, small.run(), 1e-5);
                separate.run();
                assertClose("small again, round " + round, want, small.run(), 1e-5);
                separate.run();
                assertClose("wide, round " + round, want2, wide.run(), 1e-5);
                separate.run();
                assertClose("wide again, round " + round, want2, wide.run(), 1e-5);
                separate.run();
                assertTrue(b.graphs() >= 1, "round " + round);
            }
            return new long[] {b.compiledBytes(), b.graphs()};
        }
    }

    private record Chain(Backend be, Weight w, Tensor x, Tensor norm, Tensor res, Tensor h, Tensor y, Tensor rstd,
                         int N, int C, int OC) {
        Chain(Backend be, float[] wv, float[] xv, float[] nv, float[] rv, int N, int C, int OC) {
            this(be, be.weight(store(wv, DType.F32), DType.F32, OC, C), be.upload(xv), be.upload(nv), be.upload(rv),
                    be.allocate(N * OC), be.allocate(N * OC), be.allocate(N), N, C, OC);
        }

        /** The chain's output on a cpu backend of its own: the reference the tornadovm runs are held to. */
        static float[] onCpu(float[] wv, float[] xv, float[] nv, float[] rv, int N, int C, int OC) {
            try (Backend cpu = Backends.open("cpu", 1)) {
                return new Chain(cpu, wv, xv, nv, rv, N, C, OC).run();
            }
        }

        float[] run() {
            be.matmulForward(h, x, w, null, N, C, OC);
            be.rmsnormForward(y, rstd, h, norm, 1e-5f, N, OC);
            be.add(y, res, (long) N * OC);
            return be.download(y);
        }
    }

    /** acc = 0; then steps calls alternating acc += x and acc *= 0.5; finally acc += s (s: read first and last). */
    private record LongChain(Backend be, Tensor x, Tensor s, Tensor acc, int steps) {
        LongChain(Backend be, float[] xv, float[] sv, int steps) {
            this(be, be.upload(xv), be.upload(sv), be.allocate(xv.length), steps);
        }

        float[] run() {
            be.zero(acc);
            be.add(acc, s, acc.size());
            for (int i = 0; i < steps; i++) {
                if (i % 2 == 0) {
                    be.add(acc, x, acc.size());
                } else {
                    be.scale(acc, 0.5f, acc.size());
                }
            }
            be.add(acc, s, acc.size());
            return be.download(acc);
        }
    }

    /** One AdamW step on p, then out = x p^T through a live weight view of p: the optimizer step plus a forward. */
    private record Optimizer(Backend be, Tensor p, Tensor g, Tensor m, Tensor v, Tensor x, Tensor out, Weight w,
                             int N, int C, int OC) {
        Optimizer(Backend be, float[] pv, float[] gv, float[] xv, int N, int C, int OC) {
            this(be, be.upload(pv), be.upload(gv), be.allocate(pv.length), be.allocate(pv.length), be.upload(xv),
                    be.allocate(N * OC), N, C, OC);
        }

        private Optimizer(Backend be, Tensor p, Tensor g, Tensor m, Tensor v, Tensor x, Tensor out, int N, int C,
                          int OC) {
            this(be, p, g, m, v, x, out, be.weightOf(p, OC, C), N, C, OC);
        }

        float[] run(int step) {
            be.adamwUpdate(p, g, m, v, p.size(), 1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f, step);
            be.matmulForward(out, x, w, null, N, C, OC);
            return be.download(out);
        }
    }

    /**
     * One training step of y = rmsnorm(x p^T) against a target, with the loss gradient dy = y - target computed on the
     * host and uploaded as a fresh tensor (as DpoStep does): AdamW on p from the previous step's gradient (none on step
     * 0), forward, download y; backward into gw, then its sum of squares (the gradient norm) is the host's next read.
     */
    private record Step(Backend be, Tensor p, Tensor gw, Tensor m, Tensor v, Tensor x, Tensor norm, Tensor h, Tensor y,
                        Tensor rstd, Tensor dh, Weight w, float[] target, int N, int C, int OC) {
        Step(Backend be, float[] pv, float[] xv, float[] nv, float[] tv, int N, int C, int OC) {
            this(be, be.upload(pv), be.allocate(pv.length), be.allocate(pv.length), be.allocate(pv.length),
                    be.upload(xv), be.upload(nv), be.allocate(N * OC), be.allocate(N * OC), be.allocate(N),
                    be.allocate(N * OC), tv, N, C, OC);
        }

        private Step(Backend be, Tensor p, Tensor gw, Tensor m, Tensor v, Tensor x, Tensor norm, Tensor h, Tensor y,
                     Tensor rstd, Tensor dh, float[] target, int N, int C, int OC) {
            this(be, p, gw, m, v, x, norm, h, y, rstd, dh, be.weightOf(p, OC, C), target, N, C, OC);
        }

        double run(int step) {
            if (step > 0) {
                be.adamwUpdate(p, gw, m, v, p.size(), 1e-2f, 0.9f, 0.999f, 1e-8f, 0f, step);
            }
            be.zero(gw);
            be.zero(dh);
            be.matmulForward(h, x, w, null, N, C, OC);
            be.rmsnormForward(y, rstd, h, norm, 1e-5f, N, OC);
            float[] dy = be.download(y);
            for (int i = 0; i < dy.length; i++) {
                dy[i] -= target[i];
            }
            be.rmsnormBackward(dh, null, be.upload(dy), h, rstd, norm, N, OC);
            be.matmulBackwardWeight(gw, dh, x, N, C, OC);
            return be.sumOfSquares(gw, gw.size());
        }
    }
}
