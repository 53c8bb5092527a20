package org.pairwise.model.load;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.pairwise.model.ModelConfig;

/** The canonical (HF Llama) tensor names and shapes a config implies; every loader checks its result against them. */
public final class TensorLayout {
    private TensorLayout() {}

    public static String layer(int i, String suffix) {
        return "model.layers." + i + "." + suffix;
    }

    /** Name to shape (outermost first), in file order; lm_head only when the embeddings are not tied. */
    public static Map<String, long[]> expected(ModelConfig c) {
        long h = c.hiddenSize();
        long q = c.qDim();
        long kv = c.kvDim();
        long ff = c.intermediateSize();
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("model.embed_tokens.weight", new long[] {c.vocabSize(), h});
        for (int i = 0; i < c.numLayers(); i++) {
            m.put(layer(i, "input_layernorm.weight"), new long[] {h});
            m.put(layer(i, "self_attn.q_proj.weight"), new long[] {q, h});
            m.put(layer(i, "self_attn.k_proj.weight"), new long[] {kv, h});
            m.put(layer(i, "self_attn.v_proj.weight"), new long[] {kv, h});
            if (c.attentionBias()) {
                m.put(layer(i, "self_attn.q_proj.bias"), new long[] {q});
                m.put(layer(i, "self_attn.k_proj.bias"), new long[] {kv});
                m.put(layer(i, "self_attn.v_proj.bias"), new long[] {kv});
            }
            m.put(layer(i, "self_attn.o_proj.weight"), new long[] {h, q});
            m.put(layer(i, "post_attention_layernorm.weight"), new long[] {h});
            m.put(layer(i, "mlp.gate_proj.weight"), new long[] {ff, h});
            m.put(layer(i, "mlp.up_proj.weight"), new long[] {ff, h});
            m.put(layer(i, "mlp.down_proj.weight"), new long[] {h, ff});
        }
        m.put("model.norm.weight", new long[] {h});
        if (!c.tieWordEmbeddings()) {
            m.put("lm_head.weight", new long[] {c.vocabSize(), h});
        }
        return m;
    }

    /** Throws naming the first missing tensor or wrong shape. Extra tensors are allowed (and left in place). */
    public static void validate(String source, ModelConfig c, Map<String, TensorData> tensors) {
        for (Map.Entry<String, long[]> e : expected(c).entrySet()) {
            TensorData t = tensors.get(e.getKey());
            if (t == null) {
                throw new IllegalArgumentException(source + ": missing tensor " + e.getKey()
                        + " (expected shape " + Arrays.toString(e.getValue()) + " for " + c.architecture() + ")");
            }
            if (!Arrays.equals(t.shape(), e.getValue())) {
                throw new IllegalArgumentException(source + ": tensor " + e.getKey() + " has shape "
                        + Arrays.toString(t.shape()) + ", but the config implies " + Arrays.toString(e.getValue()));
            }
        }
    }
}
