package org.pairwise.server.gen;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.pairwise.server.gen.PairGenerator.PromptInput;

/**
 * The next turn of a conversation: the voted pair's prompt as messages (a text prompt becomes one user message), the
 * response its voter preferred as the assistant's turn, and the voter's next message as the user's. The chat
 * template renders the whole list, so the new pair is generated, stored and trained on over the full history.
 */
public final class Conversation {
    private Conversation() {}

    /** The next user message, checked: it must hold something to read (see {@link PromptSet#visible}). */
    public static String userMessage(String text) {
        return PromptSet.visible(text, "message");
    }

    static PromptInput next(PromptInput parent, String preferredResponse, String userMessage) {
        List<Map<String, Object>> messages = new ArrayList<>();
        if (parent.messages() != null) {
            messages.addAll(parent.messages());
        } else {
            messages.add(message("user", parent.text()));
        }
        messages.add(message("assistant", preferredResponse));
        messages.add(message("user", userMessage(userMessage)));
        return new PromptInput(null, List.copyOf(messages));
    }

    private static Map<String, Object> message(String role, String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }
}
