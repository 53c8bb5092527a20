package org.pairwise.model.tokenizer;

import java.util.List;
import java.util.Map;

/** One chat turn in the {@code {"role", "content"}} shape that chat templates and TRL's conversational data use. */
public record Message(String role, String content) {

    public Message {
        if (role == null || role.isBlank()) throw new IllegalArgumentException("message role is missing");
        if (content == null) throw new IllegalArgumentException("message content is missing (role " + role + ")");
    }

    public static Message system(String content) {
        return new Message("system", content);
    }

    public static Message user(String content) {
        return new Message("user", content);
    }

    public static Message assistant(String content) {
        return new Message("assistant", content);
    }

    public Map<String, Object> toMap() {
        return Map.of("role", role, "content", content);
    }

    public static List<Map<String, Object>> toMaps(List<Message> messages) {
        return messages.stream().map(Message::toMap).toList();
    }
}
