package org.pairwise.server.gen;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.pairwise.server.gen.PairGenerator.PromptInput;
import org.pairwise.server.store.PreferenceStore.GoldPair;

/**
 * Gold pairs from TRL preference JSONL: {@code {"prompt", "chosen", "rejected"}} with strings (standard) or message
 * lists (conversational: the prompt a list of messages, chosen and rejected one assistant message each). chosen is
 * the right answer. The whole upload is checked before anything is stored; a bad line is named.
 */
public final class GoldSet {
    private GoldSet() {}

    public static List<GoldPair> parse(String content, String origin) {
        List<GoldPair> out = PromptSet.lines(content, origin, GoldSet::one);
        if (out.isEmpty()) {
            throw new IllegalArgumentException(origin + ": no gold pairs (expected TRL JSONL: prompt, chosen, "
                    + "rejected)");
        }
        return out;
    }

    private static GoldPair one(String line) {
        JsonNode node = PromptSet.readJson(line);
        if (node == null || !node.isObject() || node.get("prompt") == null) {
            throw new IllegalArgumentException("expected a JSON object with prompt, chosen and rejected");
        }
        PromptInput prompt = PromptSet.fromNode(node);
        String right = response(node.get("chosen"), "chosen");
        String wrong = response(node.get("rejected"), "rejected");
        return new GoldPair(prompt.display(), PromptSet.messagesJson(prompt), right, wrong);
    }

    /** A string, or a message list whose last message is the assistant's response. */
    private static String response(JsonNode n, String field) {
        if (n != null && n.isTextual()) {
            return PromptSet.visible(n.asText(), field);
        }
        if (n != null && n.isArray() && !n.isEmpty()) {
            var messages = PromptSet.messages(n);
            var last = messages.getLast();
            if ("assistant".equals(last.get("role"))) {
                return PromptSet.visible((String) last.get("content"), field);
            }
        }
        throw new IllegalArgumentException(field + " must be a string or a list ending in an assistant message");
    }
}
