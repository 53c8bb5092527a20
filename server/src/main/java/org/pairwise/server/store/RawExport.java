package org.pairwise.server.store;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import java.io.IOException;
import java.io.Writer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;

/**
 * Every vote (withdrawn ones too, with retracted_at), skip and pair flag as JSONL, one object a line with its
 * {@code type} and its columns by name: who, when, what, the comment, the guideline version, whether the pair is gold
 * (and its right side), the pair, its policy version and, for a continued conversation, its parent pair. Keyset
 * pagination by id, CHUNK rows per short read, as {@link TrlExport}: never the whole table in memory.
 */
final class RawExport {
    private static final JsonFactory JSON = JsonFactory.builder().disable(StreamWriteFeature.AUTO_CLOSE_TARGET)
            .build();

    private RawExport() {}

    private static final String VOTES = """
            SELECT v.id, v.pair_id, v.annotator, v.choice, v.comment, v.created_at, v.changed_at, v.retracted_at,
                   v.guideline_version, v.trained_at_version, p.kind, p.gold_choice, p.policy_version, p.parent_pair_id
            FROM preferences v JOIN pairs p ON p.pair_id = v.pair_id WHERE v.id > ? ORDER BY v.id LIMIT ?""";
    private static final String SKIPS = """
            SELECT s.id, s.pair_id, s.annotator, s.reason, s.comment, s.created_at, p.kind, p.policy_version
            FROM skips s JOIN pairs p ON p.pair_id = s.pair_id WHERE s.id > ? ORDER BY s.id LIMIT ?""";
    private static final String FLAGS = """
            SELECT f.id, f.pair_id, f.annotator, f.comment, f.created_at, p.kind, p.policy_version
            FROM pair_flags f JOIN pairs p ON p.pair_id = f.pair_id WHERE f.id > ? ORDER BY f.id LIMIT ?""";

    private static final String BATTLES = """
            SELECT v.id, v.pair_id, v.annotator, v.choice, v.comment, v.created_at, v.changed_at, v.retracted_at,
                   v.guideline_version, v.trained_at_version, p.a_policy_version, p.b_policy_version,
                   p.policy_version AS served_policy_version, p.prompt_text, p.a_text, p.b_text
            FROM preferences v JOIN pairs p ON p.pair_id = v.pair_id
            WHERE p.kind = 'battle' AND v.id > ? ORDER BY v.id LIMIT ?""";

    /** Every vote on a battle ({@code type} battle_vote) with both sides' texts and versions; the lines written. */
    static long exportBattles(ReadPool.Connector source, Writer out) throws IOException {
        try (Connection c = source.open().conn(); JsonGenerator gen = JSON.createGenerator(out)) {
            gen.setRootValueSeparator(null);
            return table(c, gen, "battle_vote", BATTLES);
        } catch (SQLException e) {
            throw new IOException("battle export failed: " + e.getMessage(), e);
        }
    }

    /** Returns the number of lines written. */
    static long export(ReadPool.Connector source, Writer out) throws IOException {
        long written = 0;
        try (Connection c = source.open().conn(); JsonGenerator gen = JSON.createGenerator(out)) {
            gen.setRootValueSeparator(null);
            written += table(c, gen, "vote", VOTES);
            written += table(c, gen, "skip", SKIPS);
            written += table(c, gen, "pair_flag", FLAGS);
        } catch (SQLException e) {
            throw new IOException("raw export failed after " + written + " lines: " + e.getMessage(), e);
        }
        return written;
    }

    private static long table(Connection c, JsonGenerator gen, String type, String sql)
            throws SQLException, IOException {
        long written = 0;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            long after = 0;
            int rows;
            do {
                rows = 0;
                ps.setLong(1, after);
                ps.setInt(2, TrlExport.CHUNK);
                try (ResultSet rs = ps.executeQuery()) {
                    ResultSetMetaData md = rs.getMetaData();
                    while (rs.next()) {
                        after = rs.getLong(1);
                        gen.writeStartObject();
                        gen.writeStringField("type", type);
                        for (int i = 1; i <= md.getColumnCount(); i++) {
                            field(gen, md.getColumnLabel(i), rs, i);
                        }
                        gen.writeEndObject();
                        gen.writeRaw('\n');
                        rows++;
                    }
                }
                written += rows;
                gen.flush();
            } while (rows == TrlExport.CHUNK);
        }
        return written;
    }

    private static void field(JsonGenerator gen, String name, ResultSet rs, int i) throws SQLException, IOException {
        Object v = rs.getObject(i);
        if (v == null) {
            gen.writeNullField(name);
        } else if (v instanceof Double || v instanceof Float) {
            gen.writeNumberField(name, ((Number) v).doubleValue());
        } else if (v instanceof Number n) {
            gen.writeNumberField(name, n.longValue());
        } else {
            gen.writeStringField(name, v.toString());
        }
    }
}
