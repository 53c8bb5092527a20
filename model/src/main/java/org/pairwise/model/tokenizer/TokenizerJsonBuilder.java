package org.pairwise.model.tokenizer;

import static org.pairwise.model.tokenizer.TokenizerJsonParts.addedTokens;
import static org.pairwise.model.tokenizer.TokenizerJsonParts.byteLevelStep;
import static org.pairwise.model.tokenizer.TokenizerJsonParts.header;
import static org.pairwise.model.tokenizer.TokenizerJsonParts.pairs;
import static org.pairwise.model.tokenizer.TokenizerJsonParts.prependBos;
import static org.pairwise.model.tokenizer.TokenizerJsonParts.replace;
import static org.pairwise.model.tokenizer.TokenizerJsonParts.splitThenByteLevel;
import static org.pairwise.model.tokenizer.TokenizerJsonParts.vocab;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Writes Hugging Face {@code tokenizer.json} text for vocabularies that arrive without one (GGUF metadata,
 * llama2.c {@code tokenizer.bin}, the built-in demo model), so that one tokenizer implementation (HF tokenizers via
 * DJL) serves every model format.
 *
 * <p>Token types follow GGUF: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
 */
public final class TokenizerJsonBuilder {

    public static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;

    /** SentencePiece's word-boundary marker; it stands for a space inside pieces. */
    static final String SPIECE_UNDERLINE = "\u2581";

    /** Qwen2's pre-tokenizer: like Llama 3's, but digits are split one by one. */
    static final String QWEN2_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** Llama 3's pre-tokenizer: digits in groups of up to three. */
    static final String LLAMA3_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern BYTE_PIECE = Pattern.compile("<0x[0-9A-F]{2}>");

    private TokenizerJsonBuilder() {}

    /**
     * A SentencePiece BPE vocabulary (GGUF {@code tokenizer.ggml.model=llama}) as the equivalent LlamaTokenizerFast
     * tokenizer.json. Merges are derived from the vocabulary: a pair (a, b) is a merge when a, b and a+b are all
     * pieces, ranked by the merged piece's score. That ranking is what makes HF's rank-driven BPE pick the same pair
     * as SentencePiece's highest-score-first loop.
     */
    public static String sentencePiece(
            List<String> tokens, float[] scores, int[] tokenTypes, int bosId, int eosId, int unkId) {
        int n = tokens.size();
        requireLength("scores", scores.length, n);
        requireLength("tokenTypes", tokenTypes.length, n);
        ObjectNode root = header();
        root.set("added_tokens", addedTokens(tokens, tokenTypes));

        ObjectNode normalizer = root.putObject("normalizer");
        normalizer.put("type", "Sequence");
        ArrayNode norms = normalizer.putArray("normalizers");
        norms.addObject().put("type", "Prepend").put("prepend", SPIECE_UNDERLINE);
        norms.add(replace(" ", SPIECE_UNDERLINE));
        root.putNull("pre_tokenizer");
        root.set("post_processor", bosId >= 0 ? prependBos(tokens.get(bosId), bosId) : null);

        ObjectNode decoder = root.putObject("decoder");
        decoder.put("type", "Sequence");
        ArrayNode decs = decoder.putArray("decoders");
        decs.add(replace(SPIECE_UNDERLINE, " "));
        decs.addObject().put("type", "ByteFallback");
        decs.addObject().put("type", "Fuse");
        decs.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);

        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        if (unkId >= 0) model.put("unk_token", tokens.get(unkId));
        else model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", true);
        model.put("byte_fallback", true);
        model.put("ignore_merges", false);
        model.set("vocab", vocab(tokens));
        model.set("merges", pairs(spmMerges(tokens, scores, tokenTypes)));
        return write(root);
    }

    /**
     * A GPT-2-style byte-level BPE vocabulary (GGUF {@code tokenizer.ggml.model=gpt2}); {@code preTokenizer} is GGUF's
     * {@code tokenizer.ggml.pre} ("qwen2", "llama-bpe", "default"/"gpt-2"). Nothing is prepended to encodings.
     */
    public static String gpt2(List<String> tokens, int[] tokenTypes, List<String> merges, String preTokenizer) {
        return gpt2(tokens, tokenTypes, merges, preTokenizer, -1);
    }

    /** As {@link #gpt2(List, int[], List, String)}, with {@code bosId} prepended when special tokens are added. */
    public static String gpt2(
            List<String> tokens, int[] tokenTypes, List<String> merges, String preTokenizer, int bosId) {
        requireLength("tokenTypes", tokenTypes.length, tokens.size());
        String pre = preTokenizer == null ? "default" : preTokenizer;
        ObjectNode root = header();
        root.set("added_tokens", addedTokens(tokens, tokenTypes));
        boolean ignoreMerges = false;
        switch (pre) {
            case "qwen2", "deepseek-r1-qwen" -> {
                root.putObject("normalizer").put("type", "NFC");
                root.set("pre_tokenizer", splitThenByteLevel(QWEN2_REGEX));
            }
            case "llama-bpe", "llama3", "smaug-bpe" -> {
                root.putNull("normalizer");
                root.set("pre_tokenizer", splitThenByteLevel(LLAMA3_REGEX));
                // Llama 3 ships ignore_merges=true: a word that is itself a vocabulary entry is emitted whole.
                ignoreMerges = true;
            }
            case "default", "gpt-2", "gpt2" -> {
                root.putNull("normalizer");
                root.set("pre_tokenizer", byteLevelStep(true));
            }
            default -> throw new IllegalArgumentException("unsupported BPE pre-tokenizer '" + pre
                    + "' (supported: qwen2, llama-bpe, default/gpt-2)");
        }
        root.set("post_processor", bosId >= 0 ? prependBos(tokens.get(bosId), bosId) : byteLevelStep(false));
        root.set("decoder", byteLevelStep(false));

        ObjectNode model = byteLevelBpeModel(root, tokens, ignoreMerges);
        ArrayNode mergeArray = JSON.createArrayNode();
        for (String merge : merges) {
            int space = merge.indexOf(' ', 1);
            if (space < 0) throw new IllegalArgumentException("malformed merge (no space): '" + merge + "'");
            mergeArray.addArray().add(merge.substring(0, space)).add(merge.substring(space + 1));
        }
        model.set("merges", mergeArray);
        return write(root);
    }

    /** A token added on top of a vocabulary file, as tokenizer_config.json's {@code added_tokens_decoder} lists it. */
    public record AddedToken(int id, String content, boolean special) {}

    /**
     * A Hugging Face {@code vocab.json} + {@code merges.txt} pair (a directory without tokenizer.json) as a byte-level
     * tokenizer.json; {@code addedTokens} may lie past the vocabulary or replace entries inside it.
     */
    public static String vocabAndMerges(
            Path vocabJson, Path mergesTxt, String preTokenizer, List<AddedToken> addedTokens) {
        try {
            JsonNode vocab = JSON.readTree(vocabJson.toFile());
            int size = vocab.size();
            for (AddedToken t : addedTokens) size = Math.max(size, t.id() + 1);
            String[] byId = new String[size];
            for (var e : vocab.properties()) byId[e.getValue().asInt()] = e.getKey();
            int[] types = new int[size];
            Arrays.fill(types, NORMAL);
            for (AddedToken t : addedTokens) {
                byId[t.id()] = t.content();
                types[t.id()] = t.special() ? CONTROL : USER_DEFINED;
            }
            for (int i = 0; i < size; i++) {
                if (byId[i] == null) {
                    // tokenizers needs a dense id space; a hole gets a placeholder nothing can produce from text.
                    byId[i] = "<|unused_" + i + "|>";
                    types[i] = UNUSED;
                }
            }
            List<String> merges = new ArrayList<>();
            for (String line : Files.readAllLines(mergesTxt, StandardCharsets.UTF_8)) {
                if (line.isEmpty() || line.startsWith("#version")) continue;
                merges.add(line);
            }
            return gpt2(Arrays.asList(byId), types, merges, preTokenizer);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + vocabJson + " / " + mergesTxt, e);
        }
    }

    /**
     * llama2.c's {@code tokenizer.bin} as the tokenizer.json that {@link #sentencePiece} gives for the same
     * vocabulary: ids 0, 1, 2 are unk, BOS, EOS; {@code <0xNN>} pieces are byte tokens. The file stores the
     * word-boundary marker as a plain space and BOS/EOS wrapped in newlines; both are undone here.
     */
    public static String llama2c(Path tokenizerBin, int vocabSize) {
        ByteBuffer buf;
        try {
            buf = ByteBuffer.wrap(Files.readAllBytes(tokenizerBin)).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read llama2.c tokenizer " + tokenizerBin, e);
        }
        if (vocabSize < 3) throw new IllegalArgumentException("llama2.c vocabulary too small: " + vocabSize);
        List<String> tokens = new ArrayList<>(vocabSize);
        float[] scores = new float[vocabSize];
        int[] types = new int[vocabSize];
        try {
            buf.getInt(); // max_token_length: only sizes llama2.c's scratch buffer
            for (int i = 0; i < vocabSize; i++) {
                scores[i] = buf.getFloat();
                byte[] bytes = new byte[buf.getInt()];
                buf.get(bytes);
                String piece = new String(bytes, StandardCharsets.UTF_8);
                if (i <= 2) {
                    tokens.add(piece.strip());
                    types[i] = i == 0 ? UNKNOWN : CONTROL;
                } else if (BYTE_PIECE.matcher(piece).matches()) {
                    tokens.add(piece);
                    types[i] = BYTE;
                } else {
                    tokens.add(piece.replace(" ", SPIECE_UNDERLINE));
                    types[i] = NORMAL;
                }
            }
        } catch (java.nio.BufferUnderflowException e) {
            throw new IllegalArgumentException(
                    tokenizerBin + " ends before " + vocabSize + " tokens: not a llama2.c tokenizer for this model", e);
        }
        return sentencePiece(tokens, scores, types, 1, 2, 0);
    }

    /**
     * The built-in demo model's tokenizer: ids 0..255 are the bytes of the UTF-8 text, 256 is {@code <s>} (prepended
     * when special tokens are added) and 257 is {@code </s>}.
     */
    public static String byteLevel() {
        List<String> tokens = new ArrayList<>(258);
        for (int b = 0; b < 256; b++) tokens.add(ByteLevelAlphabet.charFor(b));
        tokens.add("<s>");
        tokens.add("</s>");
        int[] types = new int[258];
        Arrays.fill(types, NORMAL);
        types[256] = CONTROL;
        types[257] = CONTROL;
        ObjectNode root = header();
        root.set("added_tokens", addedTokens(tokens, types));
        root.putNull("normalizer");
        root.set("pre_tokenizer", byteLevelStep(false));
        root.set("post_processor", prependBos("<s>", 256));
        root.set("decoder", byteLevelStep(false));
        ObjectNode model = byteLevelBpeModel(root, tokens, false);
        model.putArray("merges");
        return write(root);
    }

    /**
     * SentencePiece merges: for every normal or user-defined piece, each split into two pieces that exist, ordered by
     * the merged piece's score (highest first), then its id, then the left part's id.
     */
    static List<String[]> spmMerges(List<String> tokens, float[] scores, int[] types) {
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < tokens.size(); i++) {
            if (mergeable(types[i])) ids.putIfAbsent(tokens.get(i), i);
        }
        record Merge(String left, String right, int mergedId, int leftId) {}
        List<Merge> merges = new ArrayList<>();
        for (int id = 0; id < tokens.size(); id++) {
            String piece = tokens.get(id);
            if (!mergeable(types[id]) || ids.get(piece) != id) continue;
            for (int cut = piece.offsetByCodePoints(0, 1); cut < piece.length();
                    cut = piece.offsetByCodePoints(cut, 1)) {
                Integer l = ids.get(piece.substring(0, cut));
                Integer r = ids.get(piece.substring(cut));
                if (l != null && r != null) merges.add(new Merge(piece.substring(0, cut), piece.substring(cut), id, l));
            }
        }
        merges.sort(Comparator.<Merge>comparingDouble(m -> -scores[m.mergedId])
                .thenComparingInt(Merge::mergedId)
                .thenComparingInt(Merge::leftId));
        return merges.stream().map(m -> new String[] {m.left, m.right}).toList();
    }

    private static boolean mergeable(int type) {
        return type == NORMAL || type == USER_DEFINED;
    }

    private static void requireLength(String what, int actual, int expected) {
        if (actual != expected) {
            throw new IllegalArgumentException(what + " has " + actual + " entries, tokens has " + expected);
        }
    }

    private static String write(ObjectNode root) {
        try {
            return JSON.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise tokenizer.json", e);
        }
    }

    // The "model" object of a GPT-2-style byte-level BPE: no unknown token, no byte fallback (bytes are in the vocab).
    private static ObjectNode byteLevelBpeModel(ObjectNode root, List<String> tokens, boolean ignoreMerges) {
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.put("continuing_subword_prefix", "");
        model.put("end_of_word_suffix", "");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", ignoreMerges);
        model.set("vocab", vocab(tokens));
        return model;
    }
}
