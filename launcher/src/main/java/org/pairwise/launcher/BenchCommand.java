package org.pairwise.launcher;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.pairwise.accel.Backend;
import org.pairwise.accel.Backends;
import org.pairwise.accel.DType;
import org.pairwise.accel.DTypes;
import org.pairwise.accel.RopeTable;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.engine.LlamaModel;
import org.pairwise.model.engine.SequenceScorer;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.model.load.TensorData;
import org.pairwise.trainer.config.DpoConfig;
import org.pairwise.trainer.data.PreferencePair;
import org.pairwise.trainer.train.DpoSession;
import org.pairwise.trainer.train.DpoStep;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "bench", description = "Engine throughput on a random-weight model of a named shape: prefill log-prob "
        + "tokens/s (batch x length, fused kernel) and greedy decode tokens/s with a KV cache; or, with --dpo, seconds "
        + "per full DPO training step (LoRA on all seven projections, AdamW). Prints one JSON line.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--shape", defaultValue = "small", description = "qwen2.5-0.5b or small. Default: ${DEFAULT-VALUE}.")
    String shape;

    @Option(names = "--dtype", defaultValue = "F32", description = "Weight dtype: F32, BF16, F16. Default: ${DEFAULT-VALUE}.")
    DType dtype;

    @Option(names = "--batch", defaultValue = "4",
            description = "Prefill sequences per batch. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--length", defaultValue = "256",
            description = "Prefill positions per sequence. Default: ${DEFAULT-VALUE}.")
    int length;

    @Option(names = "--decode-tokens", defaultValue = "32",
            description = "Greedy decode steps timed. Default: ${DEFAULT-VALUE}.")
    int decodeTokens;

    @Option(names = "--prompt-tokens", defaultValue = "16", description = "Decode: prompt tokens before the timed ones. Default: ${DEFAULT-VALUE}.")
    int promptTokens;

    @Option(names = "--model", paramLabel = "M", description = "Time this model (a .gguf file, an HF directory, ...) "
            + "instead of random weights of --shape (which then only names the shape in the output). Default: none "
            + "(random weights).")
    String model;

    @Option(names = "--stream", description = "Measure memory bandwidth instead (STREAM's copy, scale, add, triad, "
            + "and a read-only sum) over --stream-mb MiB with --threads threads.")
    boolean stream;

    @Option(names = "--stream-mb", defaultValue = "1536", description = "Bandwidth: MiB per array. Default: ${DEFAULT-VALUE}.")
    long streamMb;

    @Option(names = "--pair-tokens", defaultValue = "0", description = "Also time pair generation: two sampled "
            + "responses of this many tokens decoded as a batch of two, against two sequential generations (0 = off). Default: ${DEFAULT-VALUE}.")
    int pairTokens;

    @Option(names = "--repeats", defaultValue = "3", 
            description = "Timed repeats (after one warm-up); the best is kept. Default: ${DEFAULT-VALUE}.")
    int repeats;

    @Option(names = "--threads", defaultValue = "0",
            description = "Compute threads (0 = one per core). Default: ${DEFAULT-VALUE}.")
    int threads;

    @Option(names = "--dpo", description = "Time full DPO steps instead: policy forward+backward and reference forward "
            + "on --pairs pairs (chosen and rejected share a prompt), sigmoid loss, AdamW, zeroed gradients.")
    boolean dpo;

    @Option(names = "--pairs", defaultValue = "2",
            description = "DPO pairs per step (2 x pairs sequences). Default: ${DEFAULT-VALUE}.")
    int pairs;

    @Option(names = "--prompt-length", defaultValue = "128",
            description = "DPO prompt tokens per sequence. Default: ${DEFAULT-VALUE}.")
    int promptLength;

    @Option(names = "--completion-length", defaultValue = "128",
            description = "DPO completion tokens per sequence. Default: ${DEFAULT-VALUE}.")
    int completionLength;

    @Option(names = "--lora-r", defaultValue = "16", description = "DPO: adapter rank. Default: ${DEFAULT-VALUE}.")
    int loraR;

    @Option(names = "--lora-alpha", defaultValue = "32", description = "DPO: LoRA alpha. Default: ${DEFAULT-VALUE}.")
    double loraAlpha;

    @Option(names = "--gradient-checkpointing", description = "DPO: recompute layer activations in backward.")
    boolean gradientCheckpointing;

    @Option(names = "--share-prompt", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "DPO: compute each pair's prompt once for chosen and rejected (share_prompt); "
                    + "--no-share-prompt computes it for each, for comparison. Default: ${DEFAULT-VALUE}.")
    boolean sharePrompt;

    @Option(names = "--warmup", defaultValue = "1",
            description = "DPO: untimed steps before the timed ones. Default: ${DEFAULT-VALUE}.")
    int warmup;

    @Option(names = "--breakdown", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "DPO: after the timed steps, time the policy forward alone on their pairs (backward = the "
                    + "policy part of the best step minus it). Reference and optimizer times are always split out. "
                    + "Default: ${DEFAULT-VALUE}.")
    boolean breakdown;

    @Spec
    CommandSpec spec;

    static ModelConfig shape(String name) {
        return switch (name) {
            case "qwen2.5-0.5b" -> new ModelConfig("Qwen2ForCausalLM", 896, 24, 14, 2, 64, 4864, 151936, 32768, 1e-6f,
                    1000000.0, null, RopeTable.Pairing.HALVES, true, true, -1, new int[] {151643});
            case "small" -> new ModelConfig("LlamaForCausalLM", 512, 8, 8, 2, 64, 1408, 32000, 4096, 1e-5f, 10000.0,
                    null, RopeTable.Pairing.HALVES, true, false, 1, new int[] {2});
            default -> throw new IllegalArgumentException("unknown shape '" + name + "' (qwen2.5-0.5b, small)");
        };
    }

    @Override
    public Integer call() {
        if (dpo) {
            return callDpo();
        }
        try {
            Map<String, Object> r = stream ? StreamBench.run(threads, repeats, streamMb) : EngineBench.run(this);
            spec.commandLine().getOut().println(Json.MAPPER.writeValueAsString(r));
        } catch (Exception e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        return 0;
    }

    /**
     * Full DPO steps with the trainer's own code path. Every step (warm-up and timed) gets fresh random token ids, so
     * the reference log-prob cache always misses and each step pays for its reference forward, as an online trainer
     * does on new votes. Memory: peak heap is the sum of the heap pools' peak usage since a reset just before the
     * timed steps (an upper bound: pools peak at different moments); live heap is what a full GC leaves after them;
     * peak RSS is the process's VmHWM (whole run, weights in native memory included), comparable to getrusage maxrss.
     */
    private Integer callDpo() {
        PrintWriter out = spec.commandLine().getOut();
        ModelConfig c = shape(shape);
        DpoConfig cfg = dpoConfig();
        try (Checkpoint ck = randomCheckpoint(c, dtype); Backend be = Backends.open("cpu", threads)) {
            DpoSession session = DpoSession.start(LlamaModel.load(ck, be), cfg,
                    cfg.lrSchedule(Math.max(1, warmup + repeats)), "bench", null, DpoSession.Options.offline(4096));
            SplittableRandom rng = new SplittableRandom(7);
            for (int i = 0; i < warmup; i++) {
                session.accumulate(randomPairs(rng, c), 1.0);
                session.optimizerStep();
            }
            List<List<PreferencePair>> batches = new ArrayList<>();
            for (int i = 0; i < repeats; i++) {
                batches.add(randomPairs(rng, c));
            }
            System.gc();
            List<MemoryPoolMXBean> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
                    .filter(p -> p.getType() == MemoryType.HEAP).toList();
            heapPools.forEach(MemoryPoolMXBean::resetPeakUsage);
            List<Double> times = new ArrayList<>();
            double[] best = null;
            double loss = Double.NaN;
            for (List<PreferencePair> batch : batches) {
                // The same work as accumulate alone, split in two: scoreReference computes and caches the reference
                // log-probs that accumulate would otherwise compute first, so accumulate is then the policy
                // forward+backward.
                long t0 = System.nanoTime();
                session.scoreReference(batch);
                long t1 = System.nanoTime();
                DpoStep.Result res = session.accumulate(batch, 1.0);
                long t2 = System.nanoTime();
                session.optimizerStep();
                long t3 = System.nanoTime();
                loss = res.out().loss;
                double total = (t3 - t0) / 1e9;
                times.add(total);
                if (best == null || total < best[0]) {
                    best = new double[] {total, (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9};
                }
            }
            long peakHeap = heapPools.stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum();
            System.gc();
            long liveHeap = heapPools.stream().mapToLong(p -> p.getUsage().getUsed()).sum();
            double bestStep = best[0];
            double meanStep = times.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
            int seqLen = promptLength + completionLength, seqs = 2 * pairs;
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("engine", "pairwise-cpu");
            r.put("shape", shape);
            r.put("dtype", dtype.name());
            r.put("gradient_checkpointing", gradientCheckpointing);
            r.put("share_prompt", sharePrompt);
            r.put("threads", threads > 0 ? threads : Runtime.getRuntime().availableProcessors());
            r.put("pairs", pairs);
            r.put("sequences", seqs);
            r.put("prompt_length", promptLength);
            r.put("completion_length", completionLength);
            r.put("lora_r", loraR);
            r.put("repeats", repeats);
            r.put("step_s_best", bestStep);
            r.put("step_s_mean", meanStep);
            r.put("step_times_s", times);
            r.put("tokens_per_s", seqs * seqLen / bestStep);
            r.put("loss", loss);
            r.put("peak_heap_mb", peakHeap / 1048576.0);
            r.put("live_heap_mb", liveHeap / 1048576.0);
            r.put("peak_rss_mb", peakRssMb());
            r.put("reference_forward_s", best[1]);
            r.put("optimizer_s", best[3]);
            if (breakdown) {
                // The policy forward alone (training activations kept, no backward): the pairs of a timed step,
                // whose reference log-probs are cached. Backward = the best step's policy part minus it.
                double fwd = Double.MAX_VALUE;
                for (List<PreferencePair> batch : batches) {
                    long t0 = System.nanoTime();
                    session.evaluate(batch);
                    fwd = Math.min(fwd, (System.nanoTime() - t0) / 1e9);
                }
                r.put("policy_forward_s", fwd);
                r.put("policy_backward_s", best[2] - fwd);
            } else {
                r.put("policy_forward_backward_s", best[2]);
            }
            out.println(Json.MAPPER.writeValueAsString(r));
        } catch (Exception e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        return 0;
    }

    /**
     * The training settings of the timed steps: DPOConfig's defaults (sigmoid, beta 0.1, AdamW 0.9/0.999/1e-8, no
     * weight decay, max_grad_norm 1.0) at a constant 5e-6, LoRA of --lora-r/--lora-alpha on all seven projections,
     * and no truncation, so every step takes exactly the pairs it is given.
     */
    private DpoConfig dpoConfig() {
        if (loraAlpha != Math.rint(loraAlpha)) {
            throw new IllegalArgumentException("--lora-alpha must be a whole number (DPOConfig's lora_alpha), got "
                    + loraAlpha);
        }
        return DpoConfig.defaults().withOverrides(Map.of("lora_r", Integer.toString(loraR),
                "lora_alpha", Long.toString((long) loraAlpha), "lora_dropout", "0", "learning_rate", "5e-6",
                "lr_scheduler_type", "constant", "max_length", "null",
                "gradient_checkpointing", Boolean.toString(gradientCheckpointing),
                "share_prompt", Boolean.toString(sharePrompt)));
    }

    /** Pairs of random ids: chosen and rejected share the prompt and differ in the completion, as real pairs do. */
    private List<PreferencePair> randomPairs(SplittableRandom rng, ModelConfig c) {
        List<PreferencePair> out = new ArrayList<>();
        for (int i = 0; i < pairs; i++) {
            int[] prompt = rng.ints(promptLength, 0, c.vocabSize()).toArray();
            out.add(PreferencePair.of(i, "bench pair " + i, prompt, rng.ints(completionLength, 0, c.vocabSize())
                    .toArray(), rng.ints(completionLength, 0, c.vocabSize()).toArray(), 0));
        }
        return out;
    }

    static double peakRssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: no RSS figure
        }
        return Double.NaN;
    }

    /** Uniform random weights in a native arena: std ~0.03 keeps activations finite through 24 layers. */
    static Checkpoint randomCheckpoint(ModelConfig c, DType dtype) {
        Arena arena = Arena.ofShared();
        Map<String, TensorData> t = new LinkedHashMap<>();
        SplittableRandom rng = new SplittableRandom(1);
        int C = c.hiddenSize();
        add(t, arena, rng, dtype, "model.embed_tokens.weight", c.vocabSize(), C);
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            add(t, arena, rng, DType.F32, p + "input_layernorm.weight", C);
            add(t, arena, rng, dtype, p + "self_attn.q_proj.weight", c.qDim(), C);
            add(t, arena, rng, dtype, p + "self_attn.k_proj.weight", c.kvDim(), C);
            add(t, arena, rng, dtype, p + "self_attn.v_proj.weight", c.kvDim(), C);
            if (c.attentionBias()) {
                add(t, arena, rng, DType.F32, p + "self_attn.q_proj.bias", c.qDim());
                add(t, arena, rng, DType.F32, p + "self_attn.k_proj.bias", c.kvDim());
                add(t, arena, rng, DType.F32, p + "self_attn.v_proj.bias", c.kvDim());
            }
            add(t, arena, rng, dtype, p + "self_attn.o_proj.weight", C, c.qDim());
            add(t, arena, rng, DType.F32, p + "post_attention_layernorm.weight", C);
            add(t, arena, rng, dtype, p + "mlp.gate_proj.weight", c.intermediateSize(), C);
            add(t, arena, rng, dtype, p + "mlp.up_proj.weight", c.intermediateSize(), C);
            add(t, arena, rng, dtype, p + "mlp.down_proj.weight", C, c.intermediateSize());
        }
        add(t, arena, rng, DType.F32, "model.norm.weight", C);
        return new Checkpoint("random:" + c.architecture(), "hf", c, t, null, null, arena::close);
    }

    private static void add(Map<String, TensorData> t, Arena arena, SplittableRandom rng, DType dtype, String name,
                            long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        MemorySegment seg = arena.allocate(dtype.bytesFor(n), 64);
        for (long i = 0; i < n; i++) {
            float v = (float) ((rng.nextDouble() - 0.5) * 0.1);
            switch (dtype) {
                case F32 -> seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
                case BF16 -> seg.setAtIndex(ValueLayout.JAVA_SHORT, i, DTypes.floatToBf16(v));
                case F16 -> seg.setAtIndex(ValueLayout.JAVA_SHORT, i, Float.floatToFloat16(v));
                default -> throw new IllegalArgumentException("bench weights: F32, BF16 or F16");
            }
        }
        t.put(name, new TensorData(name, dtype, shape, seg));
    }
}
