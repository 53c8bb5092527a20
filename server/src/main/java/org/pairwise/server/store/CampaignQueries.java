package org.pairwise.server.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.pairwise.server.store.PreferenceStore.AnnotatorFlag;
import org.pairwise.server.store.PreferenceStore.LeasedPair;
import org.pairwise.server.store.PreferenceStore.TrainingItem;
import org.pairwise.trainer.data.PreferencePair;

/** The campaign's reads, each on a reader thread's read-only connection. */
final class CampaignQueries {
    private CampaignQueries() {}

    static Optional<LeasedPair> leased(Connection c, String pairId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + prefixed("p.", Rows.PAIR_COLUMNS) + ", "
                + prefixed("r.", Rows.PROMPT_COLUMNS) + ", p.kind FROM pairs p JOIN prompts r ON r.id = p.prompt_id"
                + " WHERE p.pair_id = ?")) {
            ps.setString(1, pairId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                int n = Rows.PAIR_COLUMNS.split(",").length;
                var prompt = new PreferenceStore.PromptRecord(rs.getLong(n + 1), rs.getString(n + 2),
                        rs.getString(n + 3), rs.getString(n + 4), rs.getLong(n + 5));
                return Optional.of(new LeasedPair(Rows.pair(rs), prompt, rs.getString(n + 6)));
            }
        }
    }

    private static String prefixed(String prefix, String columns) {
        return prefix + columns.replace(", ", ", " + prefix);
    }

    /**
     * chosen = the side the label prefers; a per-vote item keeps the vote's id as the pair's id (so a step names the
     * votes it trained on), an aggregated one its own id. label_smoothing NULL: the configuration's applies.
     */
    static List<TrainingItem> trainingItemsAfter(Connection c, long afterItemId, int limit) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT t.id, t.vote_id, t.chosen, t.label_smoothing, t.weight, p.prompt_ids, p.a_token_ids,
                       p.b_token_ids, p.policy_version, p.pair_id
                FROM training_items t JOIN pairs p ON p.pair_id = t.pair_id
                WHERE t.id > ? ORDER BY t.id LIMIT ?""")) {
            ps.setLong(1, afterItemId);
            ps.setInt(2, limit);
            List<TrainingItem> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long itemId = rs.getLong(1);
                    long voteId = rs.getLong(2);
                    boolean perVote = !rs.wasNull();
                    boolean aWins = rs.getString(3).equals("a");
                    double smoothing = rs.getDouble(4);
                    if (rs.wasNull()) {
                        smoothing = PreferencePair.NO_LABEL_SMOOTHING;
                    }
                    double weight = rs.getDouble(5);
                    if (rs.wasNull()) {
                        weight = PreferencePair.NO_WEIGHT;
                    }
                    int[] a = Rows.ints(rs, 7);
                    int[] b = Rows.ints(rs, 8);
                    long id = perVote ? voteId : itemId;
                    String source = perVote ? "vote " + voteId : "pair " + rs.getString(10);
                    out.add(new TrainingItem(itemId, new PreferencePair(id, source, Rows.ints(rs, 6),
                            aWins ? a : b, aWins ? b : a, rs.getInt(9), weight, smoothing)));
                }
            }
            return out;
        }
    }

    static List<AnnotatorFlag> annotatorFlags(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT annotator, flagged, reason, changed_at, changed_by"
                + " FROM annotator_flags ORDER BY annotator");
             ResultSet rs = ps.executeQuery()) {
            List<AnnotatorFlag> out = new ArrayList<>();
            while (rs.next()) {
                out.add(new AnnotatorFlag(rs.getString(1), rs.getInt(2) == 1, rs.getString(3), rs.getLong(4),
                        rs.getString(5)));
            }
            return out;
        }
    }
}
