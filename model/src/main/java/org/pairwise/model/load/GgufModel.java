package org.pairwise.model.load;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.pairwise.accel.RopeTable;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.tokenizer.TokenizerJsonBuilder;

/**
 * A GGUF {@code llama}-architecture file as a {@link Checkpoint}: config from the {@code llama.*} keys, tensors renamed
 * to HF names (shapes are already HF order), and the embedded vocabulary converted to a tokenizer.json.
 * llama.cpp's converter permutes HF's Q/K rows so that adjacent dimensions form RoPE pairs, so the config says
 * {@link RopeTable.Pairing#ADJACENT}; the tensors are used as stored, not un-permuted.
 */
public final class GgufModel {
    private static final Pattern BLOCK = Pattern.compile("blk\\.(\\d+)\\.(\\w+)\\.(weight|bias)");
    private static final Map<String, String> BLOCK_NAMES = Map.of(
            "attn_norm", "input_layernorm", "attn_q", "self_attn.q_proj", "attn_k", "self_attn.k_proj",
            "attn_v", "self_attn.v_proj", "attn_output", "self_attn.o_proj", "ffn_norm", "post_attention_layernorm",
            "ffn_gate", "mlp.gate_proj", "ffn_up", "mlp.up_proj", "ffn_down", "mlp.down_proj");
    private static final Map<String, String> GLOBAL_NAMES = Map.of(
            "token_embd.weight", "model.embed_tokens.weight", "output_norm.weight", "model.norm.weight",
            "output.weight", "lm_head.weight");
    private static final String ROPE_FREQS = "rope_freqs.weight";
    private static final ObjectMapper JSON = new ObjectMapper();

    private GgufModel() {}

    public static Checkpoint load(Path file, String source) throws IOException {
        GgufFile gguf = GgufFile.open(file);
        try {
            return fromGguf(gguf, source);
        } catch (RuntimeException e) {
            gguf.close();
            throw e;
        }
    }

    /** The checkpoint owns {@code gguf}: closing it unmaps the file. */
    public static Checkpoint fromGguf(GgufFile gguf, String source) {
        String arch = gguf.has("general.architecture") ? gguf.string("general.architecture") : "(none)";
        if (!arch.equals("llama")) {
            throw new IllegalArgumentException(source + ": GGUF architecture " + arch + " is not supported (llama is)");
        }
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        for (TensorData t : gguf.tensors().values()) {
            if (!t.name().equals(ROPE_FREQS)) {
                String name = hfName(t.name());
                tensors.put(name, new TensorData(name, t.dtype(), t.shape(), t.data()));
            }
        }
        ModelConfig config = config(gguf, source, tensors);
        TensorLayout.validate(source, config, tensors);
        String tokenizerJson = tokenizer(gguf, source);
        return new Checkpoint(source, "gguf", config, tensors, tokenizerJson, tokenizerConfig(gguf), gguf);
    }

    /** GGUF tensor name to HF name; names outside the llama scheme are kept as they are. */
    public static String hfName(String ggufName) {
        String global = GLOBAL_NAMES.get(ggufName);
        if (global != null) {
            return global;
        }
        Matcher m = BLOCK.matcher(ggufName);
        if (m.matches() && BLOCK_NAMES.containsKey(m.group(2))) {
            return TensorLayout.layer(Integer.parseInt(m.group(1)), BLOCK_NAMES.get(m.group(2)) + "." + m.group(3));
        }
        return ggufName;
    }

    private static ModelConfig config(GgufFile g, String source, Map<String, TensorData> tensors) {
        int hidden = g.integer("llama.embedding_length");
        int heads = g.integer("llama.attention.head_count");
        int headDim = g.integer("llama.attention.key_length", hidden / heads);
        int rotary = g.integer("llama.rope.dimension_count", headDim);
        if (rotary != headDim) {
            throw new IllegalArgumentException(source + ": partial rotary (rope.dimension_count " + rotary
                    + " < head size " + headDim + ") is not supported");
        }
        String scalingType = g.has("llama.rope.scaling.type") ? g.string("llama.rope.scaling.type") : "none";
        if (!scalingType.equals("none")) {
            throw new IllegalArgumentException(source + ": rope scaling type " + scalingType + " is not supported");
        }
        int vocab = g.has("tokenizer.ggml.tokens") ? g.array("tokenizer.ggml.tokens").size()
                : g.integer("llama.vocab_size", tensors.containsKey("model.embed_tokens.weight")
                        ? tensors.get("model.embed_tokens.weight").rows() : 0);
        double theta = g.number("llama.rope.freq_base", 10000.0);
        int ctx = g.integer("llama.context_length", 2048);
        RopeTable.Llama3Scaling scaling = g.tensors().containsKey(ROPE_FREQS)
                ? llama3FromFreqFactors(source, Tensors.toFloats(g.tensors().get(ROPE_FREQS)), headDim, theta, ctx)
                : null;
        List<Integer> eos = new ArrayList<>(List.of(g.integer("tokenizer.ggml.eos_token_id", 2)));
        int eot = g.integer("tokenizer.ggml.eot_token_id", -1);
        if (eot >= 0 && !eos.contains(eot)) {
            eos.add(eot);
        }
        return new ModelConfig("LlamaForCausalLM", hidden, g.integer("llama.block_count"), heads,
                g.integer("llama.attention.head_count_kv", heads), headDim, g.integer("llama.feed_forward_length"),
                vocab, ctx, (float) g.number("llama.attention.layer_norm_rms_epsilon", 1e-5), theta, scaling,
                RopeTable.Pairing.ADJACENT, !tensors.containsKey("lm_head.weight"), false,
                g.integer("tokenizer.ggml.bos_token_id", 1), eos.stream().mapToInt(Integer::intValue).toArray());
    }

    /**
     * llama.cpp stores Llama 3.1's rope scaling only as per-frequency divisors (rope_freqs.weight). Every released
     * Llama 3.x uses low_freq_factor 1, high_freq_factor 4 and an original context of 8192, with the factor equal to
     * the largest divisor; accept the file when those parameters reproduce its divisors, otherwise refuse it.
     */
    private static RopeTable.Llama3Scaling llama3FromFreqFactors(
            String source, float[] divisors, int headDim, double theta, int ctx) {
        double factor = 0;
        for (float d : divisors) {
            factor = Math.max(factor, d);
        }
        RopeTable.Llama3Scaling s = new RopeTable.Llama3Scaling(factor, 1, 4, 8192);
        RopeTable plain = RopeTable.create(RopeTable.Pairing.ADJACENT, headDim, 2, theta, null);
        RopeTable scaled = RopeTable.create(RopeTable.Pairing.ADJACENT, headDim, 2, theta, s);
        int half = headDim / 2;
        boolean matches = divisors.length == half;
        for (int i = 0; matches && i < half; i++) {
            double base = Math.atan2(plain.sin()[half + i], plain.cos()[half + i]);
            double mine = Math.atan2(scaled.sin()[half + i], scaled.cos()[half + i]);
            matches = Math.abs(base / mine - divisors[i]) <= 1e-3 * divisors[i];
        }
        if (!matches) {
            throw new IllegalArgumentException(source + ": rope_freqs.weight " + Arrays.toString(divisors)
                    + " does not match Llama 3 rope scaling (factor " + factor + ", low 1, high 4, original 8192)");
        }
        return s;
    }

    private static String tokenizer(GgufFile g, String source) {
        String model = g.has("tokenizer.ggml.model") ? g.string("tokenizer.ggml.model") : "(none)";
        List<String> tokens = g.strings("tokenizer.ggml.tokens");
        int[] types = g.has("tokenizer.ggml.token_type") ? g.ints("tokenizer.ggml.token_type") : normalTypes(tokens.size());
        int bos = g.integer("tokenizer.ggml.bos_token_id", -1);
        int eos = g.integer("tokenizer.ggml.eos_token_id", -1);
        return switch (model) {
            case "llama" -> {
                boolean addBos = flag(g, "tokenizer.ggml.add_bos_token", true);
                float[] scores = g.has("tokenizer.ggml.scores") ? g.floats("tokenizer.ggml.scores") : new float[tokens.size()];
                yield TokenizerJsonBuilder.sentencePiece(tokens, scores, types, addBos ? bos : -1, eos,
                        g.integer("tokenizer.ggml.unknown_token_id", -1));
            }
            case "gpt2" -> {
                boolean addBos = flag(g, "tokenizer.ggml.add_bos_token", false);
                String pre = g.has("tokenizer.ggml.pre") ? g.string("tokenizer.ggml.pre") : "default";
                yield TokenizerJsonBuilder.gpt2(tokens, types, g.strings("tokenizer.ggml.merges"), pre, addBos ? bos : -1);
            }
            default -> throw new IllegalArgumentException(source + ": tokenizer.ggml.model " + model
                    + " is not supported (llama and gpt2 are)");
        };
    }

    /** The parts of tokenizer_config.json that a GGUF carries: special tokens, BOS insertion, chat template. */
    private static String tokenizerConfig(GgufFile g) {
        List<String> tokens = g.strings("tokenizer.ggml.tokens");
        ObjectNode c = JSON.createObjectNode();
        int bos = g.integer("tokenizer.ggml.bos_token_id", -1);
        int eos = g.integer("tokenizer.ggml.eos_token_id", -1);
        if (bos >= 0 && bos < tokens.size()) {
            c.put("bos_token", tokens.get(bos));
        }
        if (eos >= 0 && eos < tokens.size()) {
            c.put("eos_token", tokens.get(eos));
        }
        if (g.has("tokenizer.ggml.add_bos_token")) {
            c.put("add_bos_token", flag(g, "tokenizer.ggml.add_bos_token", true));
        }
        if (g.has("tokenizer.chat_template")) {
            c.put("chat_template", g.string("tokenizer.chat_template"));
        }
        return c.toPrettyString();
    }

    private static boolean flag(GgufFile g, String key, boolean dflt) {
        return g.has(key) ? (Boolean) g.metadata().get(key) : dflt;
    }

    private static int[] normalTypes(int n) {
        int[] t = new int[n];
        Arrays.fill(t, TokenizerJsonBuilder.NORMAL);
        return t;
    }
}
