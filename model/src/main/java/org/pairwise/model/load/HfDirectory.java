package org.pairwise.model.load;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.pairwise.model.ModelConfig;

/**
 * A model directory in the layout transformers saves: {@code config.json}, {@code generation_config.json} (optional),
 * safetensors weights (one file or shards with an index), {@code tokenizer.json}, {@code tokenizer_config.json}.
 */
public final class HfDirectory {
    private HfDirectory() {}

    public static Checkpoint load(Path dir) throws IOException {
        return load(dir, dir.toString());
    }

    /** @param source what the user named (shown in messages and kept in the checkpoint) */
    public static Checkpoint load(Path dir, String source) throws IOException {
        ModelConfig config = ModelConfigs.read(dir);
        Path tokenizer = dir.resolve("tokenizer.json");
        if (!Files.exists(tokenizer)) {
            throw new IOException(dir + ": no tokenizer.json (a tokenizer in the HF tokenizers format is required)");
        }
        String tokenizerJson = Files.readString(tokenizer);
        Path tokConfig = dir.resolve("tokenizer_config.json");
        String tokenizerConfigJson = Files.exists(tokConfig) ? Files.readString(tokConfig) : null;

        Arena arena = Arena.ofShared();
        try {
            Map<String, TensorData> tensors = canonicalNames(Safetensors.readModel(dir, arena));
            TensorLayout.validate(source, config, tensors);
            return new Checkpoint(source, "hf", config, tensors, tokenizerJson, tokenizerConfigJson, arena);
        } catch (RuntimeException | IOException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Files saved from a bare LlamaModel (not ...ForCausalLM) lack the "model." prefix; add it so that every
     * checkpoint uses the same names. Files that already have it are returned as they are.
     */
    static Map<String, TensorData> canonicalNames(Map<String, TensorData> tensors) {
        if (tensors.containsKey("model.embed_tokens.weight") || !tensors.containsKey("embed_tokens.weight")) {
            return tensors;
        }
        Map<String, TensorData> out = new LinkedHashMap<>();
        for (TensorData t : tensors.values()) {
            String name = t.name().startsWith("lm_head.") ? t.name() : "model." + t.name();
            out.put(name, new TensorData(name, t.dtype(), t.shape(), t.data()));
        }
        return out;
    }
}
