package org.pairwise.server.cli;

import java.io.PrintWriter;
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
import org.pairwise.model.engine.Generator;
import org.pairwise.model.engine.LlamaModel;
import org.pairwise.model.engine.SequenceScorer;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.model.load.TensorData;
import org.pairwise.model.sample.SamplingParams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "bench", description = "Engine throughput on a random-weight model of a named shape: prefill log-prob "
        + "tokens/s (batch x length, fused kernel) and greedy decode tokens/s with a KV cache. Prints one JSON line.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--shape", defaultValue = "small", description = "qwen2.5-0.5b or small. Default: ${DEFAULT-VALUE}.")
    String shape;

    @Option(names = "--dtype", defaultValue = "F32", description = "Weight dtype: F32, BF16, F16. Default: ${DEFAULT-VALUE}.")
    DType dtype;

    @Option(names = "--batch", defaultValue = "4")
    int batch;

    @Option(names = "--length", defaultValue = "256", description = "Prefill positions per sequence.")
    int length;

    @Option(names = "--decode-tokens", defaultValue = "32")
    int decodeTokens;

    @Option(names = "--repeats", defaultValue = "3", description = "Timed repeats (after one warm-up); the best is kept.")
    int repeats;

    @Option(names = "--threads", defaultValue = "0")
    int threads;

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
        PrintWriter out = spec.commandLine().getOut();
        ModelConfig c = shape(shape);
        try (Checkpoint ck = randomCheckpoint(c, dtype); Backend be = Backends.open("cpu", threads)) {
            LlamaModel model = LlamaModel.load(ck, be);
            SplittableRandom rng = new SplittableRandom(7);
            List<SequenceScorer.Sequence> seqs = new ArrayList<>();
            for (int b = 0; b < batch; b++) {
                seqs.add(new SequenceScorer.Sequence(rng.ints(length, 0, c.vocabSize()).toArray(), 1));
            }
            SequenceScorer scorer = new SequenceScorer(model, batch * length);
            double prefill = best(() -> scorer.score(seqs));
            Generator gen = new Generator(model);
            int[] prompt = rng.ints(16, 0, c.vocabSize()).toArray();
            // Decode excludes the prompt's prefill: time the whole generation, subtract a prefill-only run.
            SamplingParams one = SamplingParams.greedy(1);
            SamplingParams many = SamplingParams.greedy(decodeTokens + 1);
            double prefillOnly = best(() -> gen.generate(prompt, one, null));
            double all = best(() -> gen.generate(prompt, many, (t, lp) -> true));
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("engine", "pairwise-cpu");
            r.put("shape", shape);
            r.put("dtype", dtype.name());
            r.put("threads", threads > 0 ? threads : Runtime.getRuntime().availableProcessors());
            r.put("prefill_batch", batch);
            r.put("prefill_length", length);
            r.put("prefill_tokens_per_s", batch * length / prefill);
            r.put("decode_tokens_per_s", decodeTokens / (all - prefillOnly));
            out.println(Json.MAPPER.writeValueAsString(r));
        } catch (Exception e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        return 0;
    }

    private double best(Runnable r) {
        r.run();
        double best = Double.MAX_VALUE;
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            r.run();
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        return best;
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
