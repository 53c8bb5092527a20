package org.pairwise.model.load;

import java.util.Map;
import org.pairwise.model.ModelConfig;

/**
 * A loaded model file set, whatever its format: the config, the tensors under canonical HF names
 * ({@code model.embed_tokens.weight}, {@code model.layers.{i}.self_attn.q_proj.weight}, ..., {@code model.norm.weight},
 * {@code lm_head.weight} unless tied), and the tokenizer as HF {@code tokenizer.json} text.
 *
 * @param source              what the user named (a path, a hub id, "demo")
 * @param format              "hf", "gguf", "llama2c" or "demo"
 * @param tokenizerJson       HF tokenizer.json content (converted for GGUF and llama2.c)
 * @param tokenizerConfigJson HF tokenizer_config.json content (chat template, special tokens), or null
 * @param resources           closes the memory maps; tensors are invalid afterwards
 */
public record Checkpoint(
        String source,
        String format,
        ModelConfig config,
        Map<String, TensorData> tensors,
        String tokenizerJson,
        String tokenizerConfigJson,
        AutoCloseable resources) implements AutoCloseable {

    public TensorData tensor(String name) {
        TensorData t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException(source + ": missing tensor " + name);
        }
        return t;
    }

    @Override
    public void close() {
        try {
            if (resources != null) {
                resources.close();
            }
        } catch (Exception e) {
            throw new IllegalStateException("closing " + source, e);
        }
    }
}
