package org.pairwise.server.gen;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.pairwise.server.gen.PairGenerator.PromptInput;

/**
 * Prompt sources: the built-in story starters (for the demo model and tiny story models like stories260K) and prompt
 * files, either JSONL — {@code {"prompt": "..."}}, {@code {"messages": [...]}}, or TRL's conversational
 * {@code {"prompt": [messages]}}; other keys such as chosen/rejected are ignored, so a TRL preference file works as a
 * prompt source — or plain text, one prompt per line.
 */
public final class PromptSet {
    private PromptSet() {}

    private static final ObjectMapper JSON = new ObjectMapper();

    public static final String BUILTIN_SOURCE = "builtin";

    /** Short openings a small story model can continue; the person judges which continuation reads better. */
    public static final List<String> BUILTIN = List.of(
            "Once upon a time, there was a little girl named Lily.",
            "One day, a boy named Tom found a shiny red ball in the park.",
            "The cat sat by the window and looked at the rain.",
            "Sam and his dog went to the beach to play.",
            "There was a big tree in the middle of the garden.",
            "Mia wanted to bake a cake for her mom.",
            "A little bird could not fly very high.",
            "Ben had a toy car that he loved very much.",
            "The sun was hot, so Anna went to the lake.",
            "Once there was a friendly dragon who lived on a hill.",
            "Lucy found a small box under her bed.",
            "The old man had a garden full of flowers.",
            "Max was sad because he lost his blue hat.",
            "One morning, the farmer saw a strange light in the sky.",
            "Two friends wanted to build a boat.",
            "The little fish swam away from the big shark.",
            "Sara liked to draw pictures of the moon.",
            "Timmy went to the store with his dad.",
            "It was a cold night, and the wind was very loud.",
            "The bunny hopped into the forest to find some carrots.");

    public static List<PromptInput> builtin() {
        return BUILTIN.stream().map(PromptInput::text).toList();
    }

    /** Every prompt in a JSONL or text upload; fails on the first bad line, naming it, so nothing is half-added. */
    public static List<PromptInput> parse(String content, String origin) {
        List<PromptInput> out = new ArrayList<>();
        String[] lines = content.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty()) {
                continue;
            }
            try {
                out.add(line.startsWith("{") ? fromJson(line) : PromptInput.text(visible(line, "prompt")));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(origin + ":" + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(origin + ": no prompts (expected JSONL or one prompt per line)");
        }
        return out;
    }

    /** One prompt from a JSON object (JSONL line or request body). */
    public static PromptInput fromJson(String json) {
        JsonNode node;
        try {
            node = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            // Where, not Jackson's own words about it: those describe the parser, not the mistake.
            throw new IllegalArgumentException("not valid JSON" + (e.getLocation() == null ? ""
                    : " (at column " + e.getLocation().getColumnNr() + ")"));
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("expected a JSON object with prompt or messages");
        }
        return fromNode(node);
    }

    static PromptInput fromNode(JsonNode node) {
        JsonNode prompt = node.get("prompt"), messages = node.get("messages");
        if (prompt != null && prompt.isArray() && messages == null) {
            messages = prompt;  // TRL's conversational prompt
            prompt = null;
        }
        if ((prompt == null) == (messages == null)) {
            throw new IllegalArgumentException("give exactly one of prompt (a string) or messages (a list)");
        }
        if (prompt != null) {
            if (!prompt.isTextual() || prompt.asText().isBlank()) {
                throw new IllegalArgumentException("prompt must be a non-empty string");
            }
            return PromptInput.text(visible(prompt.asText(), "prompt"));
        }
        List<Map<String, Object>> conversation = messages(messages);
        conversation.forEach(m -> visible((String) m.get("content"), "each message's content"));
        return new PromptInput(null, conversation);
    }

    /** A list of {role, content} string pairs, as chat templates take them. */
    public static List<Map<String, Object>> messages(JsonNode messages) {
        if (!messages.isArray() || messages.isEmpty()) {
            throw new IllegalArgumentException("messages must be a non-empty list of {role, content}");
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (JsonNode m : messages) {
            JsonNode role = m.get("role"), content = m.get("content");
            if (!m.isObject() || role == null || !role.isTextual() || content == null || !content.isTextual()) {
                throw new IllegalArgumentException("each message must be {\"role\": string, \"content\": string}");
            }
            Map<String, Object> msg = new LinkedHashMap<>();
            msg.put("role", role.asText());
            msg.put("content", content.asText());
            out.add(msg);
        }
        return out;
    }

    /**
     * The text, when it holds something to read: a prompt of only whitespace, control characters (NUL bytes, say)
     * or invisible format characters is no prompt, and a model would be asked to continue nothing.
     */
    static String visible(String text, String what) {
        boolean any = text.codePoints().anyMatch(c -> !Character.isWhitespace(c) && !Character.isSpaceChar(c)
                && !Character.isISOControl(c) && Character.getType(c) != Character.FORMAT);
        if (!any) {
            throw new IllegalArgumentException(what + " has no visible characters (only whitespace or control "
                    + "characters)");
        }
        return text;
    }

    /** The conversation as stored (PromptRecord.messagesJson), or null for a text prompt. */
    public static String messagesJson(PromptInput p) {
        if (p.messages() == null) {
            return null;
        }
        try {
            return JSON.writeValueAsString(p.messages());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A stored prompt back as input. */
    public static PromptInput fromRecord(String text, String messagesJson) {
        if (messagesJson == null) {
            return PromptInput.text(text);
        }
        try {
            return new PromptInput(null, messages(JSON.readTree(messagesJson)));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("stored messages are not valid JSON: " + e.getOriginalMessage());
        }
    }
}
