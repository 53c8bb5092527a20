package org.pairwise.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.pairwise.accel.DType;
import org.pairwise.accel.DTypes;
import org.pairwise.accel.RopeTable;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.model.load.TensorData;
import org.pairwise.model.tokenizer.TokenizerJsonBuilder;

/**
 * The built-in demo model: a tiny Llama with seeded random weights and a byte-level tokenizer, so that every command
 * and the whole online loop run with no model file and no network. Its text is noise until it is trained.
 */
public final class DemoModel {
    public static final String SPEC = "demo";
    private static final long SEED = 20261127L;

    private DemoModel() {}

    public static ModelConfig config() {
        return new ModelConfig("LlamaForCausalLM", 96, 2, 4, 2, 24, 256, 258, 1024, 1e-5f, 10000.0, null,
                RopeTable.Pairing.HALVES, false, false, 256, new int[] {257});
    }

    public static Checkpoint create() {
        ModelConfig c = config();
        SplittableRandom rng = new SplittableRandom(SEED);
        Arena arena = Arena.ofShared();
        Map<String, TensorData> t = new LinkedHashMap<>();
        int C = c.hiddenSize();
        embeddingsAndHead(t, arena, rng, c.vocabSize(), C);
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            ones(t, arena, p + "input_layernorm.weight", C);
            put(t, arena, rng, p + "self_attn.q_proj.weight", 0.1, c.qDim(), C);
            put(t, arena, rng, p + "self_attn.k_proj.weight", 0.1, c.kvDim(), C);
            put(t, arena, rng, p + "self_attn.v_proj.weight", 0.1, c.kvDim(), C);
            put(t, arena, rng, p + "self_attn.o_proj.weight", 0.1, C, c.qDim());
            ones(t, arena, p + "post_attention_layernorm.weight", C);
            put(t, arena, rng, p + "mlp.gate_proj.weight", 0.1, c.intermediateSize(), C);
            put(t, arena, rng, p + "mlp.up_proj.weight", 0.1, c.intermediateSize(), C);
            put(t, arena, rng, p + "mlp.down_proj.weight", 0.06, C, c.intermediateSize());
        }
        ones(t, arena, "model.norm.weight", C);
        return new Checkpoint(SPEC, "demo", c, t, TokenizerJsonBuilder.byteLevel(), null, arena::close);
    }

    // Embeddings and lm_head share one random direction, positive for lower-case letters, space, '.', ',' (and BOS
    // in the embeddings), negative for every other byte. A readable token's hidden state then scores readable tokens
    // far above the rest, so the untrained demo writes letters instead of invalid UTF-8; its own random parts are
    // small, so which letter follows is close to uniform until training shapes it.
    private static void embeddingsAndHead(Map<String, TensorData> t, Arena arena, SplittableRandom rng, int V, int C) {
        double[] shared = new double[C];
        for (int i = 0; i < C; i++) {
            shared[i] = gaussian(rng);
        }
        matrixAround(t, arena, rng, "model.embed_tokens.weight", shared, V, C, 1.0, 0.5);
        matrixAround(t, arena, rng, "lm_head.weight", shared, V, C, 0.15, 0.05);
    }

    private static void matrixAround(Map<String, TensorData> t, Arena arena, SplittableRandom rng, String name,
                                     double[] shared, int V, int C, double sharedWeight, double ownWeight) {
        MemorySegment seg = arena.allocate((long) V * C * 4, 64);
        for (int v = 0; v < V; v++) {
            boolean readable = v >= 'a' && v <= 'z' || v == ' ' || v == '.' || v == ',' || v == 256 && name.contains("embed");
            double sign = readable ? sharedWeight : -sharedWeight;
            for (int i = 0; i < C; i++) {
                seg.setAtIndex(DTypes.F32, (long) v * C + i, (float) (ownWeight * gaussian(rng) + sign * shared[i]));
            }
        }
        t.put(name, new TensorData(name, DType.F32, new long[] {V, C}, seg));
    }

    private static void put(Map<String, TensorData> t, Arena arena, SplittableRandom rng, String name, double std,
                            int rows, int cols) {
        MemorySegment seg = arena.allocate((long) rows * cols * 4, 64);
        for (long i = 0; i < (long) rows * cols; i++) {
            seg.setAtIndex(DTypes.F32, i, (float) (gaussian(rng) * std));
        }
        t.put(name, new TensorData(name, DType.F32, new long[] {rows, cols}, seg));
    }

    private static void ones(Map<String, TensorData> t, Arena arena, String name, int n) {
        MemorySegment seg = arena.allocate((long) n * 4, 64);
        for (int i = 0; i < n; i++) {
            seg.setAtIndex(DTypes.F32, i, 1f);
        }
        t.put(name, new TensorData(name, DType.F32, new long[] {n}, seg));
    }

    private static double gaussian(SplittableRandom rng) {
        double u = 1 - rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextDouble());
    }
}
