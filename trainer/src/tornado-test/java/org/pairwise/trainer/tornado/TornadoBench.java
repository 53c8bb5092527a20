package org.pairwise.trainer.tornado;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;
import org.pairwise.accel.Backend;
import org.pairwise.accel.Backends;
import org.pairwise.accel.DType;
import org.pairwise.accel.RopeTable;
import org.pairwise.accel.Tensor;
import org.pairwise.accel.Weight;
import org.pairwise.accel.cpu.CpuBackend;
import org.pairwise.accel.tornado.TornadoBackend;
import org.pairwise.accel.tornado.Transfers;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.SharedModels;
import org.pairwise.model.engine.Activations;
import org.pairwise.model.engine.KvCache;
import org.pairwise.model.engine.LlamaModel;
import org.pairwise.model.engine.SequenceScorer;
import org.pairwise.model.engine.TestCheckpoints;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.model.load.ModelSource;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.model.lora.LoraConfig;
import org.pairwise.model.lora.LoraGradients;
import org.pairwise.trainer.data.Truncation;
import org.pairwise.trainer.dpo.DpoLoss;
import org.pairwise.trainer.dpo.LossType;
import org.pairwise.trainer.optim.AdamW;
import org.pairwise.trainer.train.DpoStep;
import org.pairwise.trainer.train.ReferenceLogps;

/**
 * Benchmark (never in CI; bench/tornado-bench.sh runs it in a JVM with the SDK's argfile): every kernel, a forward, a
 * scoring batch and a whole DPO step on the cpu and tornadovm backends, with the tornadovm backend's host-device copies
 * (and bytes) per call from {@link TornadoBackend#transfers()}. Times are the median of the timed repetitions after
 * warm-up calls (which build and compile the graphs); the copy counts are per call in steady state. Prints markdown.
 *
 * <p>Arguments: [reps] (default 10). The model-level rows use stories260K when the shared models are present, else a
 * tiny random Llama.
 */
public final class TornadoBench {
    // kernel shapes: N tokens (B x T), C model width, OC output features, V vocabulary, attention heads
    static final int B = 2, T = 64, N = B * T, C = 256, OC = 512, V = 2048, NH = 8, KV = 4, HS = 32;

    interface Call {
        void run(Backend be);
    }

    record Row(String name, String shape, double cpuMs, double tvmMs, Transfers.Snapshot perCall) {}

    public static void main(String[] args) throws Exception {
        int reps = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        List<Row> rows = new ArrayList<>();
        try (Backend cpu = new CpuBackend(Runtime.getRuntime().availableProcessors());
             TornadoBackend tvm = (TornadoBackend) Backends.open("tornadovm", 0)) {
            System.out.println("# tornadovm device: " + tvm.device() + "; cpu threads: "
                    + Runtime.getRuntime().availableProcessors() + "; reps " + reps);
            Kernels kc = new Kernels(cpu), kt = new Kernels(tvm);
            for (String k : Kernels.NAMES) {
                double c = time(cpu, kc.call(k), reps, null);
                Transfers.Snapshot[] per = new Transfers.Snapshot[1];
                double t = time(tvm, kt.call(k), reps, per);
                rows.add(new Row(k, kc.shape(k), c, t, per[0]));
                System.err.printf("%s done%n", k);
            }
            rows.addAll(modelRows(cpu, tvm, Math.max(3, reps / 2)));
        }
        System.out.println();
        System.out.println("| kernel / unit | shape | cpu ms | tornadovm ms | copies to device | to host | MB to device "
                + "| MB to host | graph executions |");
        System.out.println("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        for (Row r : rows) {
            Transfers.Snapshot p = r.perCall();
            System.out.printf(Locale.ROOT, "| %s | %s | %.3f | %.3f | %d | %d | %.3f | %.3f | %d |%n", r.name(), r.shape(),
                    r.cpuMs(), r.tvmMs(), p.toDevice(), p.toHost(), p.bytesToDevice() / 1e6, p.bytesToHost() / 1e6,
                    p.executions());
        }
    }

    /** Median milliseconds of reps calls after two warm-up calls; per[0] gets the copies of one steady-state call. */
    static double time(Backend be, Call call, int reps, Transfers.Snapshot[] per) {
        call.run(be);
        call.run(be);
        Transfers.Snapshot t0 = per == null ? null : ((TornadoBackend) be).transfers();
        double[] ms = new double[reps];
        for (int i = 0; i < reps; i++) {
            long s = System.nanoTime();
            call.run(be);
            ms[i] = (System.nanoTime() - s) / 1e6;
        }
        if (per != null) {
            Transfers.Snapshot d = ((TornadoBackend) be).transfers().minus(t0);
            per[0] = new Transfers.Snapshot(d.toDevice() / reps, d.toHost() / reps, d.bytesToDevice() / reps,
                    d.bytesToHost() / reps, d.executions() / reps);
        }
        Arrays.sort(ms);
        return ms[reps / 2];
    }

    /** Every kernel of the SPI on one backend, over buffers allocated once. */
    static final class Kernels {
        static final List<String> NAMES = List.of("matmulForward+bias", "matmulBackward", "matmulBackwardWeight",
                "rmsnormForward", "rmsnormBackward", "ropeForward", "ropeBackward", "attentionForward",
                "attentionBackward", "swigluForward", "swigluBackward", "embeddingForward",
                "logprobForward", "logprobBackward", "adamwUpdate", "sumOfSquares", "add", "scale");
        final Tensor x, out, bias, dout, dx, dbias, dw, rstd, normW, dNormW, q, k, v, att, dq, dk, dv, gate, up, dgate,
                dup, logp, lse, logitSum, h, dh, dlogp, p, g, m, s;
        final Weight w, lmHead, emb;
        final int[] positions = new int[N], tokens = new int[N], targets = new int[N];
        final RopeTable rope = RopeTable.create(RopeTable.Pairing.HALVES, HS, T, 10000.0, null);

        Kernels(Backend be) {
            SplittableRandom r = new SplittableRandom(1);
            x = rand(be, r, N * C);
            out = be.allocate((long) N * OC);
            bias = rand(be, r, OC);
            dout = rand(be, r, N * OC);
            dx = be.allocate((long) N * C);
            dbias = be.allocate(OC);
            dw = be.allocate((long) OC * C);
            rstd = be.allocate(N);
            normW = rand(be, r, C);
            dNormW = be.allocate(C);
            q = rand(be, r, N * NH * HS);
            k = rand(be, r, N * KV * HS);
            v = rand(be, r, N * KV * HS);
            att = be.allocate((long) B * NH * T * T);
            dq = be.allocate((long) N * NH * HS);
            dk = be.allocate((long) N * KV * HS);
            dv = be.allocate((long) N * KV * HS);
            gate = rand(be, r, N * OC);
            up = rand(be, r, N * OC);
            dgate = be.allocate((long) N * OC);
            dup = be.allocate((long) N * OC);
            logp = be.allocate(N);
            lse = be.allocate(N);
            logitSum = be.allocate(N);
            h = rand(be, r, N * C);
            dh = be.allocate((long) N * C);
            dlogp = rand(be, r, N);
            p = rand(be, r, OC * C);
            g = rand(be, r, OC * C);
            m = be.allocate((long) OC * C);
            s = be.allocate((long) OC * C);
            w = be.weight(segment(r, OC * C), DType.F32, OC, C);
            lmHead = be.weight(segment(r, V * C), DType.F32, V, C);
            emb = be.weight(segment(r, V * C), DType.F32, V, C);
            for (int i = 0; i < N; i++) {
                positions[i] = i % T;
                tokens[i] = r.nextInt(V);
                targets[i] = i % T == T - 1 ? -1 : r.nextInt(V);
            }
        }

        String shape(String kernel) {
            return switch (kernel) {
                case "matmulForward+bias", "matmulBackward", "matmulBackwardWeight" -> "N " + N + ", C " + C + ", OC " + OC;
                case "rmsnormForward", "rmsnormBackward" -> "N " + N + ", C " + C;
                case "ropeForward", "ropeBackward" -> "N " + N + ", H " + NH + ", HS " + HS;
                case "attentionForward", "attentionBackward" -> "B " + B + ", T " + T + ", NH " + NH + ", KV " + KV
                        + ", HS " + HS;
                case "swigluForward", "swigluBackward" -> "N " + N + ", C " + OC;
                case "embeddingForward" -> "N " + N + ", C " + C + ", V " + V;
                case "logprobForward", "logprobBackward" -> "N " + N + ", C " + C + ", V " + V;
                default -> "n " + (OC * C);
            };
        }

        Call call(String kernel) {
            return switch (kernel) {
                case "matmulForward+bias" -> be -> be.matmulForward(out, x, w, bias, N, C, OC);
                case "matmulBackward" -> be -> be.matmulBackward(dx, dbias, dout, w, N, C, OC);
                case "matmulBackwardWeight" -> be -> be.matmulBackwardWeight(dw, dout, x, N, C, OC);
                case "rmsnormForward" -> be -> be.rmsnormForward(dx, rstd, x, normW, 1e-5f, N, C);
                case "rmsnormBackward" -> be -> be.rmsnormBackward(dh, dNormW, x, x, rstd, normW, N, C);
                case "ropeForward" -> be -> be.ropeForward(q, positions, rope, N, NH, HS);
                case "ropeBackward" -> be -> be.ropeBackward(dq, positions, rope, N, NH, HS);
                case "attentionForward" -> be -> be.attentionForward(dq, att, q, k, v, B, T, 0, T, NH, KV, HS);
                case "attentionBackward" -> be -> be.attentionBackward(dq, dk, dv, q, att, q, k, v, B, T, NH, KV, HS);
                case "swigluForward" -> be -> be.swigluForward(out, gate, up, N, OC);
                case "swigluBackward" -> be -> be.swigluBackward(dgate, dup, dout, gate, up, N, OC);
                case "embeddingForward" -> be -> be.embeddingForward(dx, tokens, emb, N, C);
                case "logprobForward" -> be -> be.logprobForward(logp, lse, logitSum, h, lmHead, targets, N, C, V);
                case "logprobBackward" -> be -> be.logprobBackward(dh, dlogp, h, lmHead, lse, targets, N, C, V);
                case "adamwUpdate" -> be -> be.adamwUpdate(p, g, m, s, (long) OC * C, 1e-6f, 0.9f, 0.999f, 1e-8f, 0.01f, 1);
                case "sumOfSquares" -> be -> be.sumOfSquares(g, (long) OC * C);
                case "add" -> be -> be.add(m, g, (long) OC * C);
                case "scale" -> be -> be.scale(m, 0.999f, (long) OC * C);
                default -> throw new IllegalArgumentException(kernel);
            };
        }

        static Tensor rand(Backend be, SplittableRandom r, int n) {
            float[] a = new float[n];
            for (int i = 0; i < n; i++) {
                a[i] = (float) (r.nextDouble() - 0.5);
            }
            return be.upload(a);
        }

        static MemorySegment segment(SplittableRandom r, int n) {
            MemorySegment seg = Arena.ofAuto().allocate(4L * n, 64);
            for (int i = 0; i < n; i++) {
                seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) ((r.nextDouble() - 0.5) * 0.1));
            }
            return seg;
        }
    }

    /** A forward (4 sequences), a scoring batch (the 4 sequences' log-probs) and a whole DPO step, on a real model. */
    static List<Row> modelRows(Backend cpu, TornadoBackend tvm, int reps) throws Exception {
        Optional<Path> stories = SharedModels.find("stories260K/stories260K.gguf");
        List<Row> rows = new ArrayList<>();
        Model mc = new Model(cpu, stories), mt = new Model(tvm, stories);
        String shape = mc.name + ", 2 pairs, T " + mc.T;
        for (String unit : List.of("forward (4 seqs)", "scoring batch (4 seqs)", "DPO step (2 pairs, ref cached)",
                "DPO step (2 pairs, ref scored)")) {
            double c = time(cpu, be -> mc.run(unit), reps, null);
            Transfers.Snapshot[] per = new Transfers.Snapshot[1];
            double t = time(tvm, be -> mt.run(unit), reps, per);
            rows.add(new Row(unit, shape, c, t, per[0]));
            System.err.printf("%s done%n", unit);
        }
        mc.close();
        mt.close();
        return rows;
    }

    static final class Model implements AutoCloseable {
        final Checkpoint ck;
        final String name;
        final LlamaModel model;
        final LoraAdapter adapter;
        final LoraGradients grads;
        final AdamW opt;
        final DpoStep step;
        final SequenceScorer scorer;
        final List<Truncation.Pair> pairs = new ArrayList<>();
        final List<SequenceScorer.Sequence> seqs;
        final int T;
        final Activations act;
        final KvCache cache;
        final int[] tokens;
        final Backend be;

        Model(Backend be, Optional<Path> stories) throws Exception {
            this.be = be;
            ck = stories.isPresent() ? ModelSource.open(stories.get().toString(), null)
                    : TestCheckpoints.random(TestCheckpoints.llama(67, false), 41, DType.F32);
            name = stories.isPresent() ? "stories260K" : "tiny llama";
            ModelConfig c = ck.config();
            model = LlamaModel.load(ck, be);
            adapter = LoraAdapter.create(new LoraConfig(8, 16, LoraConfig.ALL_TARGETS, 0, false, name), c, be, 3);
            grads = new LoraGradients(adapter, c, be);
            opt = new AdamW(be, adapter.parameters(), grads.tensors(), 0.9, 0.999, 1e-8, 0, 1.0);
            scorer = new SequenceScorer(model, 4096);
            step = new DpoStep(model, adapter, grads, new DpoLoss(new DpoLoss.Params(List.of(LossType.SIGMOID), null,
                    0.1, 0, 0.05, false)), new ReferenceLogps(scorer, null, 1000), false);
            SplittableRandom r = new SplittableRandom(5);
            int vocab = c.vocabSize();
            for (int i = 0; i < 2; i++) {
                int[] prompt = ids(r, 16, vocab), chosen = ids(r, 24, vocab), rejected = ids(r, 20, vocab);
                pairs.add(new Truncation.Pair(i + 1, new Truncation.Sequence(prompt, chosen),
                        new Truncation.Sequence(prompt, rejected)));
            }
            seqs = DpoStep.sequences(pairs);
            T = 40;
            act = model.newActivations(4 * T);
            cache = model.newCache(4, T);
            tokens = new int[4 * T];
            for (int s = 0; s < 4; s++) {
                int[] ids = seqs.get(s).ids();
                System.arraycopy(ids, 0, tokens, s * T, ids.length);
            }
        }

        static int[] ids(SplittableRandom r, int n, int vocab) {
            int[] a = new int[n];
            for (int i = 0; i < n; i++) {
                a[i] = 3 + r.nextInt(vocab - 3);
            }
            return a;
        }

        void run(String unit) {
            switch (unit) {
                case "forward (4 seqs)" -> model.forward(act, cache, tokens, 4, T, 0, adapter);
                case "scoring batch (4 seqs)" -> scorer.score(seqs, adapter);
                case "DPO step (2 pairs, ref cached)" -> dpoStep(step);
                case "DPO step (2 pairs, ref scored)" -> dpoStep(new DpoStep(model, adapter, grads,
                        new DpoLoss(new DpoLoss.Params(List.of(LossType.SIGMOID), null, 0.1, 0, 0.05, false)),
                        new ReferenceLogps(scorer, null, 1000), false));
                default -> throw new IllegalArgumentException(unit);
            }
        }

        private void dpoStep(DpoStep s) {
            s.run(pairs, 1.0, true);
            opt.step(1e-4);
            grads.zero();
        }

        @Override
        public void close() {
            ck.close();
        }
    }
}
