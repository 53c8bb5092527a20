package org.pairwise.trainer.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.pairwise.model.tokenizer.ChatTemplate;
import org.pairwise.model.tokenizer.Tokenizer;

/**
 * Reads preference data in TRL's formats, one JSON object per line: standard ({@code prompt}/{@code chosen}/
 * {@code rejected} strings), conversational (message lists; the prompt rendered by the chat template), implicit prompt
 * (only chosen/rejected: their shared prefix is the prompt) and pre-tokenized ({@code prompt_input_ids}/
 * {@code chosen_input_ids}/{@code rejected_input_ids} or {@code prompt_ids}/{@code chosen_ids}/{@code rejected_ids},
 * used exactly as given). Text is tokenized as TRL's {@code DPOTrainer.tokenize_row} does for decoder-only models:
 * prompt and completions separately without special tokens, then EOS appended to each completion.
 */
public final class PreferenceJsonl {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final Tokenizer tokenizer;
    private final int vocabSize;

    public PreferenceJsonl(Tokenizer tokenizer, int vocabSize) {
        this.tokenizer = tokenizer;
        this.vocabSize = vocabSize;
    }

    /**
     * Every record of the file, JSONL or one JSON array of records; a malformed record fails with its line number
     * (for an array, its 1-based position).
     */
    public List<PreferencePair> read(Path file) throws IOException {
        List<PreferencePair> out = new ArrayList<>();
        if (startsWithArray(file)) {
            JsonNode all;
            try {
                all = MAPPER.readTree(file.toFile());
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalArgumentException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
            }
            for (int i = 0; i < all.size(); i++) {
                JsonNode node = all.get(i);
                try {
                    if (!node.isObject()) {
                        throw new IllegalArgumentException("expected a JSON object");
                    }
                    out.add(parse(node, i + 1, file + ": record " + (i + 1)));
                } catch (RuntimeException e) {
                    throw new IllegalArgumentException(file + ": record " + (i + 1) + ": " + e.getMessage(), e);
                }
            }
            if (out.isEmpty()) {
                throw new IllegalArgumentException(file + ": no records");
            }
            return out;
        }
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int n = 0;
            while ((line = r.readLine()) != null) {
                n++;
                if (line.isBlank()) {
                    continue;
                }
                out.add(parse(line, n, file));
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(file + ": no records");
        }
        return out;
    }

    private static boolean startsWithArray(Path file) throws IOException {
        try (java.io.Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            int c;
            while ((c = r.read()) != -1) {
                if (!Character.isWhitespace(c)) {
                    return c == '[';
                }
            }
            return false;
        }
    }

    PreferencePair parse(String text, int line, Path file) {
        try {
            JsonNode node = MAPPER.readTree(text);
            if (node == null || !node.isObject()) {
                throw new IllegalArgumentException("expected a JSON object");
            }
            return parse(node, line, file + ":" + line);
        } catch (IOException | RuntimeException e) {
            String msg = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage()
                    : e.getMessage();
            throw new IllegalArgumentException(file + ":" + line + ": " + msg, e);
        }
    }

    // line: the record's id (its line, or its position in an array); source: how messages name it
    PreferencePair parse(JsonNode node, int line, String source) {
        for (String[] names : new String[][] {
                {"prompt_input_ids", "chosen_input_ids", "rejected_input_ids"},
                {"prompt_ids", "chosen_ids", "rejected_ids"}}) {
            if (node.has(names[1]) || node.has(names[2])) {
                return PreferencePair.of(line, source, ids(node, names[0]), ids(node, names[1]), ids(node, names[2]),
                        0);
            }
        }
        JsonNode chosen = require(node, "chosen");
        JsonNode rejected = require(node, "rejected");
        if (chosen.isArray() != rejected.isArray()) {
            throw new IllegalArgumentException("chosen and rejected must both be strings or both be message lists");
        }
        return chosen.isArray() ? conversational(node, (ArrayNode) chosen, (ArrayNode) rejected, line, source)
                : standard(node, chosen, rejected, line, source);
    }

    private PreferencePair standard(JsonNode node, JsonNode chosenNode, JsonNode rejectedNode, int line,
                                    String source) {
        String chosen = text(chosenNode, "chosen");
        String rejected = text(rejectedNode, "rejected");
        String prompt;
        if (node.has("prompt")) {
            prompt = text(node.get("prompt"), "prompt");
        } else {
            int idx = sharedPrefix(chosen, rejected);
            prompt = chosen.substring(0, idx);
            chosen = chosen.substring(idx);
            rejected = rejected.substring(idx);
        }
        return tokenize(line, source, prompt, chosen, rejected);
    }

    // TRL's extract_prompt: the longest common prefix, minus a trailing space so completions start with it.
    static int sharedPrefix(String chosen, String rejected) {
        int n = Math.min(chosen.length(), rejected.length());
        for (int i = 0; i < n; i++) {
            if (chosen.charAt(i) != rejected.charAt(i)) {
                return i > 0 && chosen.charAt(i - 1) == ' ' ? i - 1 : i;
            }
        }
        return n;
    }

    private PreferencePair conversational(JsonNode node, ArrayNode chosen, ArrayNode rejected, int line,
                                          String source) {
        ChatTemplate template = tokenizer.chatTemplate().orElseThrow(() -> new IllegalArgumentException(
                "a conversational record (message lists) needs a chat template, and this model has none: "
                        + ChatTemplate.HOW_TO_GIVE_ONE + ", or give the records as strings (TRL's standard format)"));
        List<Map<String, Object>> prompt;
        List<Map<String, Object>> c = messages(chosen, "chosen");
        List<Map<String, Object>> r = messages(rejected, "rejected");
        if (node.has("prompt")) {
            if (!node.get("prompt").isArray()) {
                throw new IllegalArgumentException("prompt must be a message list when chosen/rejected are");
            }
            prompt = messages((ArrayNode) node.get("prompt"), "prompt");
        } else {
            int k = 0;
            while (k < Math.min(c.size(), r.size()) && c.get(k).equals(r.get(k))) {
                k++;
            }
            prompt = c.subList(0, k);
            c = c.subList(k, c.size());
            r = r.subList(k, r.size());
        }
        boolean generationPrompt = !prompt.isEmpty() && "user".equals(prompt.getLast().get("role"));
        String promptText = template.render(prompt, generationPrompt);
        return tokenize(line, source, promptText, completion(template, prompt, c, promptText, "chosen"),
                completion(template, prompt, r, promptText, "rejected"));
    }

    // As TRL: render prompt + completion, then drop the rendered prompt's characters.
    private static String completion(ChatTemplate t, List<Map<String, Object>> prompt, List<Map<String, Object>> reply,
                                     String promptText, String field) {
        List<Map<String, Object>> all = new ArrayList<>(prompt);
        all.addAll(reply);
        String full = t.render(all, false);
        if (!full.startsWith(promptText)) {
            throw new IllegalArgumentException("the chat template renders the prompt differently inside the " + field
                    + " conversation, so the completion cannot be separated from it");
        }
        return full.substring(promptText.length());
    }

    private PreferencePair tokenize(int line, String source, String prompt, String chosen, String rejected) {
        int[] p = tokenizer.encode(prompt, false);
        if (p.length == 0) {
            // A completion needs a position before it; TRL would fail here, we start from BOS as generation does.
            if (tokenizer.bosId() < 0) {
                throw new IllegalArgumentException("the prompt is empty and the tokenizer has no BOS to start from");
            }
            p = new int[] {tokenizer.bosId()};
        }
        return PreferencePair.of(line, source, p, withEos(tokenizer.encode(chosen, false)),
                withEos(tokenizer.encode(rejected, false)), 0);
    }

    private int[] withEos(int[] ids) {
        if (tokenizer.eosId() < 0) {
            return ids;
        }
        int[] out = Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = tokenizer.eosId();
        return out;
    }

    private int[] ids(JsonNode node, String field) {
        JsonNode a = require(node, field);
        if (!a.isArray()) {
            throw new IllegalArgumentException(field + " must be a list of token ids");
        }
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = a.get(i);
            if (!v.isIntegralNumber() || v.asLong() < 0 || v.asLong() >= vocabSize) {
                throw new IllegalArgumentException(field + "[" + i + "] = " + v + " is not a token id in [0, "
                        + vocabSize + ")");
            }
            out[i] = v.asInt();
        }
        return out;
    }

    private static JsonNode require(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            throw new IllegalArgumentException("missing field '" + field + "'");
        }
        return v;
    }

    private static String text(JsonNode v, String field) {
        if (!v.isTextual()) {
            throw new IllegalArgumentException(field + " must be a string");
        }
        return v.asText();
    }

    private static List<Map<String, Object>> messages(ArrayNode a, String field) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (JsonNode m : a) {
            if (!m.isObject() || !m.path("role").isTextual() || !m.has("content")) {
                throw new IllegalArgumentException(field + ": every message needs a string role and a content");
            }
            out.add(MAPPER.convertValue(m, Map.class));
        }
        return out;
    }
}
