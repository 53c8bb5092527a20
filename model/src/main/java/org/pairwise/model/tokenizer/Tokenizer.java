package org.pairwise.model.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A Hugging Face tokenizer (tokenizer.json, run by the Rust tokenizers library through DJL) plus what
 * tokenizer_config.json adds: BOS/EOS and the chat template.
 *
 * <p>Encoding is exactly HF's {@code tokenizer(text, add_special_tokens=...)}: nothing is truncated or padded, and
 * only the tokenizer.json post-processor decides whether a BOS is prepended.
 */
public final class Tokenizer implements AutoCloseable {

    /** For {@link #fromJson(String, String, int, int)}: take the id from the files. */
    public static final int FROM_FILES = -2;

    private static final ObjectMapper JSON = new ObjectMapper();

    static {
        // DJL otherwise may try to download a CUDA build of the native library on a host with a GPU.
        if (System.getProperty("ai.djl.offline") == null) System.setProperty("ai.djl.offline", "true");
    }

    private final HuggingFaceTokenizer hf;
    private final String[] idToText;
    private final Map<String, Integer> textToId;
    private final int bosId;
    private final int eosId;
    private final ChatTemplate chatTemplate;

    private Tokenizer(HuggingFaceTokenizer hf, String[] idToText, Map<String, Integer> textToId, int bosId, int eosId,
            ChatTemplate chatTemplate) {
        this.hf = hf;
        this.idToText = idToText;
        this.textToId = textToId;
        this.bosId = bosId;
        this.eosId = eosId;
        this.chatTemplate = chatTemplate;
    }

    /** BOS and EOS come from the config's bos_token/eos_token when it names them, else from the json. */
    public static Tokenizer fromJson(String tokenizerJson, String tokenizerConfigJsonOrNull) {
        return fromJson(tokenizerJson, tokenizerConfigJsonOrNull, FROM_FILES, FROM_FILES);
    }

    /**
     * As {@link #fromJson(String, String)}, with BOS/EOS ids already known (GGUF metadata, llama2.c); pass
     * {@link #FROM_FILES} to look one up, -1 for none.
     */
    public static Tokenizer fromJson(String tokenizerJson, String tokenizerConfigJsonOrNull, int bosId, int eosId) {
        JsonNode json = readJson(tokenizerJson, "tokenizer.json");
        JsonNode config = tokenizerConfigJsonOrNull == null ? null
                : readJson(tokenizerConfigJsonOrNull, "tokenizer_config.json");
        String[] idToText = vocabulary(json);
        Map<String, Integer> textToId = new HashMap<>();
        for (int i = idToText.length - 1; i >= 0; i--) {
            if (idToText[i] != null) textToId.put(idToText[i], i);
        }
        String bos = config == null ? null : ChatTemplate.tokenContent(config.get("bos_token"));
        String eos = config == null ? null : ChatTemplate.tokenContent(config.get("eos_token"));
        Map<String, Integer> specials = new HashMap<>();
        for (JsonNode t : json.path("added_tokens")) {
            if (t.path("special").asBoolean(false)) specials.put(t.get("content").asText(), t.get("id").asInt());
        }
        int bosResolved = bosId != FROM_FILES ? bosId
                : bos != null ? textToId.getOrDefault(bos, -1) : guessBos(json, specials);
        int eosResolved = eosId != FROM_FILES ? eosId
                : eos != null ? textToId.getOrDefault(eos, -1) : guessEos(specials);
        ChatTemplate template = config == null ? null : ChatTemplate.fromConfig(config).orElse(null);
        if (template != null && ((bos == null && bosResolved >= 0) || (eos == null && eosResolved >= 0))) {
            // A template that mentions bos_token/eos_token needs them even when only the json knows them.
            template = template.withSpecialTokens(
                    bosResolved >= 0 ? idToText[bosResolved] : null, eosResolved >= 0 ? idToText[eosResolved] : null);
        }
        Map<String, String> options = Map.of(
                "addSpecialTokens", "false", "truncation", "false", "padding", "false",
                "withOverflowingTokens", "false");
        try {
            HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(
                    new ByteArrayInputStream(tokenizerJson.getBytes(StandardCharsets.UTF_8)), options);
            return new Tokenizer(hf, idToText, textToId, bosResolved, eosResolved, template);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("tokenizers rejected the tokenizer.json: " + e.getMessage(), e);
        }
    }

    /**
     * A Hugging Face model directory: tokenizer.json (+ tokenizer_config.json), or, where tokenizer.json is missing,
     * the vocab.json + merges.txt of a byte-level BPE, with the added tokens that tokenizer_config.json declares.
     */
    public static Tokenizer fromDirectory(Path dir) {
        try {
            Path configPath = dir.resolve("tokenizer_config.json");
            String config = Files.exists(configPath) ? Files.readString(configPath) : null;
            Path jsonPath = dir.resolve("tokenizer.json");
            if (Files.exists(jsonPath)) return fromJson(Files.readString(jsonPath), config);
            Path vocab = dir.resolve("vocab.json");
            Path merges = dir.resolve("merges.txt");
            if (!Files.exists(vocab) || !Files.exists(merges)) {
                throw new IllegalArgumentException(dir + " has neither tokenizer.json nor vocab.json + merges.txt");
            }
            JsonNode cfg = config == null ? JSON.createObjectNode() : readJson(config, "tokenizer_config.json");
            String pre = switch (cfg.path("tokenizer_class").asText("")) {
                case "Qwen2Tokenizer", "Qwen2TokenizerFast" -> "qwen2";
                case "GPT2Tokenizer", "GPT2TokenizerFast", "" -> "gpt-2";
                default -> throw new IllegalArgumentException(dir + ": no tokenizer.json, and vocab.json + merges.txt"
                        + " of tokenizer_class " + cfg.get("tokenizer_class") + " cannot be assembled");
            };
            List<TokenizerJsonBuilder.AddedToken> added = new ArrayList<>();
            for (var e : cfg.path("added_tokens_decoder").properties()) {
                added.add(new TokenizerJsonBuilder.AddedToken(Integer.parseInt(e.getKey()),
                        e.getValue().path("content").asText(), e.getValue().path("special").asBoolean(true)));
            }
            return fromJson(TokenizerJsonBuilder.vocabAndMerges(vocab, merges, pre, added), config);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read tokenizer files in " + dir, e);
        }
    }

    public int[] encode(String text, boolean addSpecialTokens) {
        long[] ids = hf.encode(text, addSpecialTokens, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = Math.toIntExact(ids[i]);
        return out;
    }

    public String decode(int[] ids, boolean skipSpecialTokens) {
        long[] wide = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= idToText.length) {
                throw new IllegalArgumentException("token id " + ids[i] + " out of range [0, " + idToText.length + ")");
            }
            wide[i] = ids[i];
        }
        return hf.decode(wide, skipSpecialTokens);
    }

    /** Number of ids, added tokens included: one past the largest id. */
    public int vocabSize() {
        return idToText.length;
    }

    /** The vocabulary entry for {@code id}, as stored (e.g. "▁Once" or "Ġthe"); not decoded text. */
    public String tokenText(int id) {
        if (id < 0 || id >= idToText.length) {
            throw new IllegalArgumentException("token id " + id + " out of range [0, " + idToText.length + ")");
        }
        return idToText[id] == null ? "" : idToText[id];
    }

    /** The id of a vocabulary entry or added token, or -1. */
    public int tokenId(String text) {
        return textToId.getOrDefault(text, -1);
    }

    public int bosId() {
        return bosId;
    }

    public int eosId() {
        return eosId;
    }

    public Optional<ChatTemplate> chatTemplate() {
        return Optional.ofNullable(chatTemplate);
    }

    public StreamingDecoder streamingDecoder(boolean skipSpecialTokens) {
        return new StreamingDecoder(this, skipSpecialTokens);
    }

    @Override
    public void close() {
        hf.close();
    }

    private static JsonNode readJson(String text, String what) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new IllegalArgumentException("malformed " + what + ": " + e.getMessage(), e);
        }
    }

    /** id to text over the model vocabulary (a map, or Unigram's list of [piece, score]) and the added tokens. */
    private static String[] vocabulary(JsonNode json) {
        Map<Integer, String> byId = new HashMap<>();
        JsonNode vocab = json.path("model").path("vocab");
        if (vocab.isArray()) {
            for (int i = 0; i < vocab.size(); i++) byId.put(i, vocab.get(i).get(0).asText());
        } else {
            for (var e : vocab.properties()) byId.putIfAbsent(e.getValue().asInt(), e.getKey());
        }
        for (JsonNode t : json.path("added_tokens")) byId.put(t.get("id").asInt(), t.get("content").asText());
        int size = byId.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        String[] out = new String[size];
        byId.forEach((id, text) -> out[id] = text);
        return out;
    }

    /**
     * The token a TemplateProcessing post-processor puts first, else a special token with a conventional BOS text.
     * Only special tokens count: byte-level vocabularies hold "<s>" as ordinary text.
     */
    private static int guessBos(JsonNode json, Map<String, Integer> specials) {
        JsonNode post = json.path("post_processor");
        List<JsonNode> processors = new ArrayList<>();
        if ("Sequence".equals(post.path("type").asText())) post.path("processors").forEach(processors::add);
        else processors.add(post);
        for (JsonNode p : processors) {
            JsonNode first = p.path("single").path(0).path("SpecialToken");
            if ("TemplateProcessing".equals(p.path("type").asText()) && first.has("id")) {
                JsonNode ids = p.path("special_tokens").path(first.get("id").asText()).path("ids");
                if (ids.size() == 1) return ids.get(0).asInt();
            }
        }
        return firstPresent(specials, "<s>", "<|begin_of_text|>", "<bos>");
    }

    private static int guessEos(Map<String, Integer> specials) {
        return firstPresent(specials, "</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>");
    }

    private static int firstPresent(Map<String, Integer> textToId, String... candidates) {
        return Arrays.stream(candidates).filter(textToId::containsKey).findFirst().map(textToId::get).orElse(-1);
    }
}
