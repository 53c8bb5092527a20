package org.pairwise.model.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.pairwise.accel.RopeTable;
import org.pairwise.model.ModelConfig;

/** HF {@code config.json} (+ {@code generation_config.json}) to {@link ModelConfig}, with transformers' defaults. */
public final class ModelConfigs {
    public static final List<String> SUPPORTED = List.of("LlamaForCausalLM", "Qwen2ForCausalLM", "MistralForCausalLM");
    // Older configs may lack "architectures"; transformers then goes by model_type.
    private static final Map<String, String> BY_MODEL_TYPE =
            Map.of("llama", "LlamaForCausalLM", "qwen2", "Qwen2ForCausalLM", "mistral", "MistralForCausalLM");
    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelConfigs() {}

    /** Reads {@code dir/config.json} and, when present, {@code dir/generation_config.json}. */
    public static ModelConfig read(Path dir) throws IOException {
        Path config = dir.resolve("config.json");
        if (!Files.exists(config)) {
            throw new IOException(dir + ": no config.json");
        }
        Path gen = dir.resolve("generation_config.json");
        String genText = Files.exists(gen) ? Files.readString(gen) : null;
        try {
            return parse(Files.readString(config), genText);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(config + ": " + e.getMessage(), e);
        }
    }

    /** generation_config.json's bos/eos, where given, win: Llama 3 lists its extra stop tokens only there. */
    public static ModelConfig parse(String configJson, String generationConfigJsonOrNull) {
        JsonNode c = tree(configJson, "config.json");
        JsonNode g = generationConfigJsonOrNull == null ? null : tree(generationConfigJsonOrNull, "generation_config.json");
        String arch = architecture(c);
        String act = c.path("hidden_act").asText("silu");
        if (!act.equals("silu")) {
            throw new IllegalArgumentException("hidden_act " + act + " is not supported (silu is)");
        }
        if (c.path("mlp_bias").asBoolean(false)) {
            throw new IllegalArgumentException("mlp_bias=true is not supported");
        }
        // Qwen2 always has q/k/v biases; Llama's attention_bias would add an o_proj bias too, which we do not run.
        boolean bias = arch.equals("Qwen2ForCausalLM");
        if (!bias && c.path("attention_bias").asBoolean(false)) {
            throw new IllegalArgumentException("attention_bias=true (with an o_proj bias) is not supported for " + arch);
        }
        int hidden = required(c, "hidden_size");
        int heads = required(c, "num_attention_heads");
        int kvHeads = optionalInt(c, "num_key_value_heads", heads);
        int headDim = optionalInt(c, "head_dim", heads == 0 ? 0 : hidden / heads);
        int bos = tokenId(c.get("bos_token_id"));
        int[] eos = tokenIds(c.get("eos_token_id"));
        if (g != null) {
            if (present(g.get("bos_token_id"))) {
                bos = tokenId(g.get("bos_token_id"));
            }
            if (present(g.get("eos_token_id"))) {
                eos = tokenIds(g.get("eos_token_id"));
            }
        }
        // transformers 5 writes rope_theta and rope_scaling's fields into one rope_parameters object.
        JsonNode rope = present(c.get("rope_parameters")) ? c.get("rope_parameters") : null;
        return new ModelConfig(arch, hidden, required(c, "num_hidden_layers"), heads, kvHeads, headDim,
                required(c, "intermediate_size"), required(c, "vocab_size"),
                optionalInt(c, "max_position_embeddings", 2048),
                (float) optionalDouble(c, "rms_norm_eps", 1e-6),
                optionalDouble(c.has("rope_theta") || rope == null ? c : rope, "rope_theta", 10000.0),
                ropeScaling(present(c.get("rope_scaling")) ? c.get("rope_scaling") : rope),
                RopeTable.Pairing.HALVES,
                c.path("tie_word_embeddings").asBoolean(false),
                bias, bos, eos);
    }

    /** The config.json transformers would write for {@code config} (tests and exported adapters use it). */
    public static String toHfJson(ModelConfig config) {
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add(config.architecture());
        c.put("model_type", switch (config.architecture()) {
            case "Qwen2ForCausalLM" -> "qwen2";
            case "MistralForCausalLM" -> "mistral";
            default -> "llama";
        });
        c.put("hidden_size", config.hiddenSize());
        c.put("num_hidden_layers", config.numLayers());
        c.put("num_attention_heads", config.numHeads());
        c.put("num_key_value_heads", config.numKvHeads());
        c.put("head_dim", config.headDim());
        c.put("intermediate_size", config.intermediateSize());
        c.put("vocab_size", config.vocabSize());
        c.put("max_position_embeddings", config.maxPositionEmbeddings());
        c.put("rms_norm_eps", config.rmsNormEps());
        c.put("rope_theta", config.ropeTheta());
        RopeTable.Llama3Scaling s = config.ropeScaling();
        if (s == null) {
            c.putNull("rope_scaling");
        } else {
            c.putObject("rope_scaling").put("rope_type", "llama3").put("factor", s.factor())
                    .put("low_freq_factor", s.lowFreqFactor()).put("high_freq_factor", s.highFreqFactor())
                    .put("original_max_position_embeddings", s.originalMaxPos());
        }
        c.put("tie_word_embeddings", config.tieWordEmbeddings());
        c.put("hidden_act", "silu");
        if (config.bosTokenId() >= 0) {
            c.put("bos_token_id", config.bosTokenId());
        }
        if (config.eosTokenIds().length == 1) {
            c.put("eos_token_id", config.eosTokenIds()[0]);
        } else {
            ArrayNode eos = c.putArray("eos_token_id");
            for (int e : config.eosTokenIds()) {
                eos.add(e);
            }
        }
        return c.toPrettyString();
    }

    private static String architecture(JsonNode c) {
        JsonNode archs = c.get("architectures");
        String arch;
        if (archs != null && archs.isArray() && !archs.isEmpty()) {
            arch = archs.get(0).asText();
        } else if (c.has("model_type")) {
            arch = BY_MODEL_TYPE.getOrDefault(c.get("model_type").asText(), "model_type " + c.get("model_type").asText());
        } else {
            throw new IllegalArgumentException("config.json names no architecture (no architectures or model_type)");
        }
        if (!SUPPORTED.contains(arch)) {
            throw new IllegalArgumentException("unsupported architecture " + arch + " (supported: "
                    + String.join(", ", SUPPORTED) + ")");
        }
        return arch;
    }

    private static RopeTable.Llama3Scaling ropeScaling(JsonNode s) {
        if (!present(s)) {
            return null;
        }
        String type = s.hasNonNull("rope_type") ? s.get("rope_type").asText() : s.path("type").asText("");
        if (type.equals("default")) {
            return null;
        }
        if (!type.equals("llama3")) {
            throw new IllegalArgumentException("rope_scaling type \"" + type + "\" is not supported (llama3 is)");
        }
        return new RopeTable.Llama3Scaling(requiredDouble(s, "factor"), requiredDouble(s, "low_freq_factor"),
                requiredDouble(s, "high_freq_factor"), required(s, "original_max_position_embeddings"));
    }

    private static JsonNode tree(String text, String what) {
        try {
            JsonNode n = JSON.readTree(text);
            if (n == null || !n.isObject()) {
                throw new IllegalArgumentException(what + " is not a JSON object");
            }
            return n;
        } catch (IOException e) {
            throw new IllegalArgumentException(what + " is not valid JSON: " + e.getMessage(), e);
        }
    }

    private static boolean present(JsonNode n) {
        return n != null && !n.isNull();
    }

    private static int required(JsonNode c, String key) {
        JsonNode n = c.get(key);
        if (!present(n) || !n.isIntegralNumber()) {
            throw new IllegalArgumentException("config needs an integer " + key);
        }
        return n.asInt();
    }

    private static double requiredDouble(JsonNode c, String key) {
        JsonNode n = c.get(key);
        if (!present(n) || !n.isNumber()) {
            throw new IllegalArgumentException("rope_scaling needs a number " + key);
        }
        return n.asDouble();
    }

    private static int optionalInt(JsonNode c, String key, int dflt) {
        JsonNode n = c.get(key);
        return present(n) ? n.asInt() : dflt;
    }

    private static double optionalDouble(JsonNode c, String key, double dflt) {
        JsonNode n = c.get(key);
        return present(n) ? n.asDouble() : dflt;
    }

    private static int tokenId(JsonNode n) {
        if (!present(n)) {
            return -1;
        }
        return n.isArray() ? (n.isEmpty() ? -1 : n.get(0).asInt()) : n.asInt();
    }

    private static int[] tokenIds(JsonNode n) {
        if (!present(n)) {
            return new int[0];
        }
        if (!n.isArray()) {
            return new int[] {n.asInt()};
        }
        int[] out = new int[n.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = n.get(i).asInt();
        }
        return out;
    }
}
