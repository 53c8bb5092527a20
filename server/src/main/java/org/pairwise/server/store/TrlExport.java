package org.pairwise.server.store;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.Writer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * A/B votes (live ones, on policy pairs: never gold pairs or withdrawn votes), or the training labels aggregation made
 * of them, as TRL preference JSONL, one object a line. "standard": {@code {"prompt", "chosen", "rejected"}} strings.
 * "conversational": the prompt as its message list (or one user message holding the prompt text), chosen and
 * rejected as one assistant message each. A continued conversation's prompt is every turn before its pair (see
 * {@link Conversations}): the conversational format gives that history as the prompt's messages, the standard one as
 * its "role: content" lines. Rows are read CHUNK at a time by id (keyset pagination, no OFFSET), each
 * chunk its own short read so the WAL can still be checkpointed during a long export.
 */
final class TrlExport {
    static final int CHUNK = 1000;
    private static final JsonFactory JSON = JsonFactory.builder()
            .disable(com.fasterxml.jackson.core.StreamWriteFeature.AUTO_CLOSE_TARGET)
            .build();

    private TrlExport() {}

    static void checkFormat(String format) {
        if (!"standard".equals(format) && !"conversational".equals(format)) {
            throw new IllegalArgumentException("format must be standard or conversational; got '" + format + "'");
        }
    }

    private static final String VOTES = """
            SELECT v.id, v.choice, p.prompt_text, p.a_text, p.b_text, pr.messages_json
            FROM preferences v
              JOIN pairs p ON p.pair_id = v.pair_id
              JOIN prompts pr ON pr.id = p.prompt_id
            WHERE v.id > ? AND v.choice IN ('a', 'b') AND v.retracted_at IS NULL AND p.kind = 'policy'
            ORDER BY v.id LIMIT ?""";
    // The trainer's queue: what aggregation decided, one line per label (gold pairs never have one).
    private static final String LABELS = """
            SELECT t.id, t.chosen, p.prompt_text, p.a_text, p.b_text, pr.messages_json
            FROM training_items t
              JOIN pairs p ON p.pair_id = t.pair_id
              JOIN prompts pr ON pr.id = p.prompt_id
            WHERE t.id > ?
            ORDER BY t.id LIMIT ?""";

    /**
     * Returns the number of lines written. labels false: every live A/B vote; true: the training labels (one per
     * vote past its undo window under {@code each}, one per decided pair under majority and soft).
     */
    static long export(ReadPool.Connector source, String format, boolean labels, Writer out) throws IOException {
        checkFormat(format);
        boolean conversational = format.equals("conversational");
        long written = 0;
        try (Connection c = source.open().conn();
             PreparedStatement ps = c.prepareStatement(labels ? LABELS : VOTES);
             JsonGenerator gen = JSON.createGenerator(out)) {
            gen.setRootValueSeparator(null); // lines end with '\n' below, not with Jackson's default space
            long after = 0;
            int rows;
            do {
                rows = 0;
                ps.setLong(1, after);
                ps.setInt(2, CHUNK);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        after = rs.getLong(1);
                        boolean aWins = rs.getString(2).equals("a");
                        String chosen = rs.getString(aWins ? 4 : 5);
                        String rejected = rs.getString(aWins ? 5 : 4);
                        if (conversational) {
                            writeConversational(gen, rs.getString(3), rs.getString(6), chosen, rejected);
                        } else {
                            writeStandard(gen, rs.getString(3), chosen, rejected);
                        }
                        gen.writeRaw('\n');
                        rows++;
                    }
                }
                written += rows;
                gen.flush(); // hand each chunk to the client as it is read
            } while (rows == CHUNK);
        } catch (SQLException e) {
            throw new IOException("export failed after " + written + " lines: " + e.getMessage(), e);
        }
        return written;
    }

    private static void writeStandard(JsonGenerator gen, String prompt, String chosen, String rejected)
            throws IOException {
        gen.writeStartObject();
        gen.writeStringField("prompt", prompt);
        gen.writeStringField("chosen", chosen);
        gen.writeStringField("rejected", rejected);
        gen.writeEndObject();
    }

    private static void writeConversational(JsonGenerator gen, String promptText, String messagesJson, String chosen,
                                            String rejected) throws IOException {
        gen.writeStartObject();
        gen.writeFieldName("prompt");
        if (messagesJson != null) {
            // Validated as a JSON array when the prompt was added; copied token by token, never parsed into a tree.
            try (JsonParser p = JSON.createParser(messagesJson)) {
                if (p.nextToken() != JsonToken.START_ARRAY) {
                    throw new IOException("stored messages_json is not a JSON array: " + messagesJson);
                }
                gen.copyCurrentStructure(p);
            }
        } else {
            gen.writeStartArray();
            message(gen, "user", promptText);
            gen.writeEndArray();
        }
        gen.writeFieldName("chosen");
        gen.writeStartArray();
        message(gen, "assistant", chosen);
        gen.writeEndArray();
        gen.writeFieldName("rejected");
        gen.writeStartArray();
        message(gen, "assistant", rejected);
        gen.writeEndArray();
        gen.writeEndObject();
    }

    private static void message(JsonGenerator gen, String role, String content) throws IOException {
        gen.writeStartObject();
        gen.writeStringField("role", role);
        gen.writeStringField("content", content);
        gen.writeEndObject();
    }

    /** A conversation must be a JSON array of {role, content} objects, or the conversational export breaks. */
    static void checkMessages(String messagesJson) {
        try (JsonParser p = JSON.createParser(messagesJson)) {
            if (p.nextToken() != JsonToken.START_ARRAY) {
                throw new IllegalArgumentException("messages must be a JSON array of {role, content} objects");
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.START_OBJECT) {
                boolean role = false;
                boolean content = false;
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    role |= p.currentName().equals("role");
                    content |= p.currentName().equals("content");
                    p.nextToken();
                    p.skipChildren();
                }
                if (!role || !content) {
                    throw new IllegalArgumentException("every message needs a role and a content");
                }
            }
            if (t != JsonToken.END_ARRAY || p.nextToken() != null) {
                throw new IllegalArgumentException("messages must be a JSON array of {role, content} objects");
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("messages is not valid JSON: " + e.getMessage(), e);
        }
    }
}
