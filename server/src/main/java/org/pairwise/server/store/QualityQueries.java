package org.pairwise.server.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.pairwise.server.store.GroupCommitWriter.Work;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.PreferenceStore.NamedVote;
import org.pairwise.server.store.PreferenceStore.SkipReason;
import org.pairwise.server.store.QualityStore.PairItem;
import org.pairwise.server.store.QualityStore.PairNote;
import org.pairwise.server.store.QualityStore.PairReview;
import org.pairwise.server.store.QualityStore.PairSkip;
import org.pairwise.server.store.QualityStore.PairSummary;
import org.pairwise.server.store.QualityStore.PairVote;

/** The reads behind the annotation-quality statistics, on a reader thread's read-only connection, and the auto flag. */
final class QualityQueries {
    private QualityQueries() {}

    /**
     * Which rows of {@code preferences} count as votes for quality: every vote of a named annotator not withdrawn.
     * This is the one place to narrow it; every quality query filters with it.
     */
    static final String COUNTED_VOTES = "v.annotator IS NOT NULL AND v.retracted_at IS NULL";

    /**
     * When the person was handed the pair: an assignment's leased_at, unless the row was made by the vote itself
     * (a vote without a lease records one with leased_at = expires_at = the vote's time, which measures nothing).
     */
    static final String LEASED_AT = "CASE WHEN a.expires_at > a.leased_at THEN a.leased_at END";

    /**
     * One pass over the table, in no particular order (a sort would cost more than the read): a few MB per 100k.
     * Each vote comes with its lease's start (when the person was handed the pair) and, on a gold pair, its answer.
     */
    static List<NamedVote> namedVotes(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT v.pair_id, v.annotator, v.choice, v.created_at, "
                + LEASED_AT + ", " + """
                       CASE WHEN p.kind = 'gold' THEN p.gold_choice END
                FROM preferences v JOIN pairs p ON p.pair_id = v.pair_id
                LEFT JOIN assignments a ON a.pair_id = v.pair_id AND a.annotator = v.annotator
                WHERE\s""" + COUNTED_VOTES)) {
            ps.setFetchSize(4096);
            List<NamedVote> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new NamedVote(rs.getString(1), rs.getString(2), Choice.fromWire(rs.getString(3)),
                            rs.getLong(4), longOrNull(rs, 5), rs.getString(6)));
                }
            }
            return out;
        }
    }

    static Map<String, Map<SkipReason, Long>> skipsByAnnotator(Connection c) throws SQLException {
        Map<String, Map<SkipReason, Long>> out = new TreeMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT annotator, reason, COUNT(*) FROM skips"
                + " WHERE annotator IS NOT NULL GROUP BY annotator, reason"); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.computeIfAbsent(rs.getString(1), k -> new TreeMap<>())
                        .put(SkipReason.fromWire(rs.getString(2)), rs.getLong(3));
            }
        }
        return out;
    }

    /** Votes cast (highest id), changed, withdrawn, and flags set: any of them moves the mark. */
    static String changeMark(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT (SELECT COALESCE(MAX(id), 0) FROM preferences),
                       (SELECT COALESCE(MAX(changed_at), 0) FROM preferences),
                       (SELECT COUNT(*) FROM preferences WHERE retracted_at IS NOT NULL),
                       (SELECT COUNT(*) FROM annotator_flags),
                       (SELECT COALESCE(MAX(changed_at), 0) FROM annotator_flags)""");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1) + "/" + rs.getLong(2) + "/" + rs.getLong(3) + "/" + rs.getLong(4) + "/"
                    + rs.getLong(5);
        }
    }

    /**
     * The automatic flag, written only if the row is as the check saw it: absent (basis null) or un-flagged with
     * changed_at = basis. An upsert with a condition, so PostgreSQL runs the same statement.
     */
    static Work<Boolean> raiseAutoFlag(String annotator, String reason, Long basisChangedAt) {
        return tx -> {
            PreparedStatement ps = tx.prepare("""
                    INSERT INTO annotator_flags (annotator, flagged, reason, changed_at, changed_by)
                    VALUES (?, 1, ?, ?, ?)
                    ON CONFLICT (annotator) DO UPDATE SET flagged = 1, reason = excluded.reason,
                        changed_at = excluded.changed_at, changed_by = excluded.changed_by
                    WHERE annotator_flags.flagged = 0 AND annotator_flags.changed_at = ?""");
            ps.setString(1, annotator);
            ps.setString(2, reason);
            ps.setLong(3, System.currentTimeMillis());
            ps.setString(4, QualityStore.AUTO);
            // No row seen: a row now is someone's decision taken meanwhile, and -1 matches no changed_at (flag rows
            // are never deleted, so a row seen is a row still there).
            ps.setLong(5, basisChangedAt == null ? -1 : basisChangedAt);
            return ps.executeUpdate() == 1;
        };
    }

    private static final String SUMMARY = """
            SELECT p.pair_id, p.kind, r.text, p.created_at, p.votes_wanted,
                   (SELECT COUNT(*) FROM preferences v WHERE v.pair_id = p.pair_id AND v.retracted_at IS NULL),
                   (SELECT COUNT(*) FROM preferences v WHERE v.pair_id = p.pair_id AND v.retracted_at IS NOT NULL),
                   (SELECT COUNT(*) FROM skips s WHERE s.pair_id = p.pair_id),
                   (SELECT COUNT(*) FROM pair_flags f WHERE f.pair_id = p.pair_id),
                   p.flagged_harmful, p.aggregate_outcome, p.a_text, p.b_text, p.policy_version, p.gold_choice,
                   p.aggregated_at
            FROM pairs p JOIN prompts r ON r.id = p.prompt_id""";

    static List<PairSummary> recentPairs(Connection c, int limit) throws SQLException {
        return list(c, SUMMARY + """
                 WHERE EXISTS (SELECT 1 FROM preferences v WHERE v.pair_id = p.pair_id)
                    OR EXISTS (SELECT 1 FROM skips s WHERE s.pair_id = p.pair_id)
                    OR EXISTS (SELECT 1 FROM pair_flags f WHERE f.pair_id = p.pair_id)
                ORDER BY p.created_at DESC, p.pair_id LIMIT ?""", QualityQueries::summary, limit);
    }

    static Optional<PairReview> pairReview(Connection c, String pairId) throws SQLException {
        List<Head> found = list(c, SUMMARY + " WHERE p.pair_id = ?", rs -> new Head(summary(rs), rs.getString(12),
                rs.getString(13), rs.getInt(14), rs.getString(15), longOrNull(rs, 16)), pairId);
        if (found.isEmpty()) {
            return Optional.empty();
        }
        Head pair = found.getFirst();
        List<PairVote> votes = list(c, "SELECT v.id, v.annotator, v.choice, v.comment, v.created_at, v.changed_at,"
                + " v.retracted_at, v.guideline_version, " + LEASED_AT + ", v.trained_at_version FROM preferences v"
                + " LEFT JOIN assignments a ON a.pair_id = v.pair_id AND a.annotator = v.annotator"
                + " WHERE v.pair_id = ? ORDER BY v.id", rs -> new PairVote(rs.getLong(1), rs.getString(2),
                Choice.fromWire(rs.getString(3)), rs.getString(4), rs.getLong(5), longOrNull(rs, 6),
                longOrNull(rs, 7), intOrNull(rs, 8), longOrNull(rs, 9), intOrNull(rs, 10)), pairId);
        List<PairSkip> skips = list(c, "SELECT annotator, reason, comment, created_at FROM skips WHERE pair_id = ?"
                + " ORDER BY id", rs -> new PairSkip(rs.getString(1), SkipReason.fromWire(rs.getString(2)),
                rs.getString(3), rs.getLong(4)), pairId);
        List<PairNote> notes = list(c, "SELECT annotator, comment, created_at FROM pair_flags WHERE pair_id = ?"
                + " ORDER BY id", rs -> new PairNote(rs.getString(1), rs.getString(2), rs.getLong(3)), pairId);
        List<PairItem> items = list(c, "SELECT id, vote_id, chosen, label_smoothing, votes, trained_at_version"
                + " FROM training_items WHERE pair_id = ? ORDER BY id", rs -> {
                    double smoothing = rs.getDouble(4);
                    Double ls = rs.wasNull() ? null : smoothing;
                    return new PairItem(rs.getLong(1), longOrNull(rs, 2), rs.getString(3), ls, rs.getInt(5),
                            intOrNull(rs, 6));
                }, pairId);
        return Optional.of(new PairReview(pair.summary(), pair.aText(), pair.bText(), pair.policyVersion(),
                pair.goldChoice(), pair.aggregatedAtMillis(), votes, skips, notes, items));
    }

    /** The pair's own row, before its votes, skips, comments and items are read. */
    private record Head(PairSummary summary, String aText, String bText, int policyVersion, String goldChoice,
                        Long aggregatedAtMillis) {}

    @FunctionalInterface
    private interface Row<T> {
        T of(ResultSet rs) throws SQLException;
    }

    /** Every row of the query with these parameters, each made by row. */
    private static <T> List<T> list(Connection c, String sql, Row<T> row, Object... params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            List<T> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(row.of(rs));
                }
            }
            return out;
        }
    }

    private static PairSummary summary(ResultSet rs) throws SQLException {
        return new PairSummary(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getInt(5),
                rs.getInt(6), rs.getInt(7), rs.getInt(8), rs.getInt(9), rs.getInt(10) == 1, rs.getString(11));
    }

    private static Long longOrNull(ResultSet rs, int column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : v;
    }

    private static Integer intOrNull(ResultSet rs, int column) throws SQLException {
        int v = rs.getInt(column);
        return rs.wasNull() ? null : v;
    }
}
