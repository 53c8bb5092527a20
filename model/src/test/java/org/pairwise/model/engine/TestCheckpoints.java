package org.pairwise.model.engine;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.pairwise.accel.DType;
import org.pairwise.accel.DTypes;
import org.pairwise.accel.RopeTable;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.model.load.TensorData;

/** Small random checkpoints built in memory, and the llama.cpp Q/K row permutation between HF and GGUF layouts. */
public final class TestCheckpoints {
    private TestCheckpoints() {}

    public static ModelConfig llama(int vocab, boolean tied) {
        return new ModelConfig("LlamaForCausalLM", 40, 2, 4, 2, 10, 52, vocab, 64, 1e-5f, 10000.0, null,
                RopeTable.Pairing.HALVES, tied, false, 1, new int[] {2});
    }

    public static ModelConfig qwen2(int vocab) {
        return new ModelConfig("Qwen2ForCausalLM", 48, 2, 6, 2, 8, 60, vocab, 64, 1e-6f, 1000000.0, null,
                RopeTable.Pairing.HALVES, true, true, -1, new int[] {2});
    }

    /** Random weights (std 0.2, norms near 1) stored as dtype; F32 values are first rounded through BF16 if asked. */
    public static Checkpoint random(ModelConfig c, long seed, DType dtype) {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, float[]> values = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        int C = c.hiddenSize();
        put(values, shapes, rng, "model.embed_tokens.weight", 1.0, 0, c.vocabSize(), C);
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            put(values, shapes, rng, p + "input_layernorm.weight", 0.1, 1, C);
            put(values, shapes, rng, p + "self_attn.q_proj.weight", 0.2, 0, c.qDim(), C);
            put(values, shapes, rng, p + "self_attn.k_proj.weight", 0.2, 0, c.kvDim(), C);
            put(values, shapes, rng, p + "self_attn.v_proj.weight", 0.2, 0, c.kvDim(), C);
            if (c.attentionBias()) {
                put(values, shapes, rng, p + "self_attn.q_proj.bias", 0.2, 0, c.qDim());
                put(values, shapes, rng, p + "self_attn.k_proj.bias", 0.2, 0, c.kvDim());
                put(values, shapes, rng, p + "self_attn.v_proj.bias", 0.2, 0, c.kvDim());
            }
            put(values, shapes, rng, p + "self_attn.o_proj.weight", 0.2, 0, C, c.qDim());
            put(values, shapes, rng, p + "post_attention_layernorm.weight", 0.1, 1, C);
            put(values, shapes, rng, p + "mlp.gate_proj.weight", 0.2, 0, c.intermediateSize(), C);
            put(values, shapes, rng, p + "mlp.up_proj.weight", 0.2, 0, c.intermediateSize(), C);
            put(values, shapes, rng, p + "mlp.down_proj.weight", 0.2, 0, C, c.intermediateSize());
        }
        put(values, shapes, rng, "model.norm.weight", 0.1, 1, C);
        if (!c.tieWordEmbeddings()) {
            put(values, shapes, rng, "lm_head.weight", 0.3, 0, c.vocabSize(), C);
        }
        return build(c, values, shapes, dtype);
    }

    public static Checkpoint build(ModelConfig c, Map<String, float[]> values, Map<String, long[]> shapes, DType dtype) {
        Arena arena = Arena.ofShared();
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        for (var e : values.entrySet()) {
            float[] v = e.getValue();
            MemorySegment seg = arena.allocate(dtype.bytesFor(v.length), 64);
            if (dtype == DType.Q8_0) {
                putQ8(seg, v);
                tensors.put(e.getKey(), new TensorData(e.getKey(), dtype, shapes.get(e.getKey()), seg));
                continue;
            }
            for (int i = 0; i < v.length; i++) {
                switch (dtype) {
                    case F32 -> seg.setAtIndex(DTypes.F32, i, v[i]);
                    case BF16 -> seg.setAtIndex(DTypes.I16, i, DTypes.floatToBf16(v[i]));
                    case F16 -> seg.setAtIndex(DTypes.I16, i, Float.floatToFloat16(v[i]));
                    default -> throw new IllegalArgumentException(dtype.name());
                }
            }
            tensors.put(e.getKey(), new TensorData(e.getKey(), dtype, shapes.get(e.getKey()), seg));
        }
        return new Checkpoint("test", "hf", c, tensors, null, null, arena::close);
    }

    /** llama.cpp's quantize_row_q8_0: per block of 32, d = amax/127 (stored as f16), q = round(x/d). */
    private static void putQ8(MemorySegment seg, float[] v) {
        for (int blk = 0; blk < v.length / 32; blk++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(v[blk * 32 + j]));
            }
            float d = amax / 127, id = d != 0 ? 1 / d : 0;
            long off = 34L * blk;
            seg.set(DTypes.I16, off, Float.floatToFloat16(d));
            for (int j = 0; j < 32; j++) {
                seg.set(java.lang.foreign.ValueLayout.JAVA_BYTE, off + 2 + j,
                        (byte) Math.max(-128, Math.min(127, Math.round(v[blk * 32 + j] * id))));
            }
        }
    }

    /** Values rounded to what BF16 can hold, so F32 and BF16 copies hold the same numbers. */
    public static Map<String, float[]> roundedToBf16(Checkpoint ck) {
        Map<String, float[]> out = new LinkedHashMap<>();
        ck.tensors().forEach((name, t) -> {
            float[] v = DTypes.toFloats(t.data(), t.dtype(), Math.toIntExact(t.numel()));
            for (int i = 0; i < v.length; i++) {
                v[i] = DTypes.bf16ToFloat(DTypes.floatToBf16(v[i]));
            }
            out.put(name, v);
        });
        return out;
    }

    public static Map<String, long[]> shapes(Checkpoint ck) {
        Map<String, long[]> out = new LinkedHashMap<>();
        ck.tensors().forEach((name, t) -> out.put(name, t.shape()));
        return out;
    }

    /**
     * llama.cpp's converter permutation: within each head, row j*(HS/2)+i (HF's halves) moves to row 2i+j, so that
     * adjacent dimensions pair up. Applied to q_proj/k_proj weights and biases; the config switches to ADJACENT.
     */
    public static Checkpoint toAdjacentLayout(Checkpoint hf) {
        ModelConfig c = hf.config();
        Map<String, float[]> values = new LinkedHashMap<>();
        hf.tensors().forEach((name, t) -> {
            float[] v = DTypes.toFloats(t.data(), t.dtype(), Math.toIntExact(t.numel()));
            if (name.contains("q_proj") || name.contains("k_proj")) {
                int heads = name.contains("q_proj") ? c.numHeads() : c.numKvHeads();
                int cols = t.shape().length == 1 ? 1 : t.cols();
                v = permuteRows(v, heads, c.headDim(), cols);
            }
            values.put(name, v);
        });
        ModelConfig adjacent = new ModelConfig(c.architecture(), c.hiddenSize(), c.numLayers(), c.numHeads(),
                c.numKvHeads(), c.headDim(), c.intermediateSize(), c.vocabSize(), c.maxPositionEmbeddings(),
                c.rmsNormEps(), c.ropeTheta(), c.ropeScaling(), RopeTable.Pairing.ADJACENT, c.tieWordEmbeddings(),
                c.attentionBias(), c.bosTokenId(), c.eosTokenIds());
        return build(adjacent, values, shapes(hf), DType.F32);
    }

    private static float[] permuteRows(float[] v, int heads, int HS, int cols) {
        float[] out = new float[v.length];
        int half = HS / 2;
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < 2; j++) {
                for (int i = 0; i < half; i++) {
                    int from = h * HS + j * half + i;
                    int to = h * HS + 2 * i + j;
                    System.arraycopy(v, from * cols, out, to * cols, cols);
                }
            }
        }
        return out;
    }

    private static void put(Map<String, float[]> values, Map<String, long[]> shapes, SplittableRandom rng, String name,
                            double std, double mean, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            double u = 1 - rng.nextDouble();
            v[i] = (float) (mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextDouble()));
        }
        values.put(name, v);
        shapes.put(name, shape);
    }
}
