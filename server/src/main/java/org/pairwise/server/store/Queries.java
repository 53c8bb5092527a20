package org.pairwise.server.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.PreferenceStore.PairRecord;
import org.pairwise.server.store.PreferenceStore.PromptRecord;
import org.pairwise.server.store.PreferenceStore.StoreStats;
import org.pairwise.server.store.PreferenceStore.TrainerCheckpoint;
import org.pairwise.server.store.PreferenceStore.VoteRecord;
import org.pairwise.trainer.data.PreferencePair;

/** The reads, each run on a reader thread's read-only connection. */
final class Queries {
    private Queries() {}

    static List<PromptRecord> prompts(Connection c, int limit) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT " + Rows.PROMPT_COLUMNS + " FROM prompts ORDER BY id LIMIT ?")) {
            ps.setInt(1, limit);
            List<PromptRecord> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(Rows.prompt(rs));
                }
            }
            return out;
        }
    }

    static Optional<PairRecord> pair(Connection c, String pairId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT " + Rows.PAIR_COLUMNS + " FROM pairs WHERE pair_id = ?")) {
            ps.setString(1, pairId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(Rows.pair(rs)) : Optional.empty();
            }
        }
    }

    /** chosen = the side the person preferred, rejected = the other side, whichever sample each side was. */
    static List<PreferencePair> trainableVotesAfter(Connection c, long afterVoteId, int limit) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT v.id, v.choice, p.prompt_ids, p.a_token_ids, p.b_token_ids, p.policy_version
                FROM preferences v JOIN pairs p ON p.pair_id = v.pair_id
                WHERE v.id > ? AND v.choice IN ('a', 'b')
                ORDER BY v.id LIMIT ?""")) {
            ps.setLong(1, afterVoteId);
            ps.setInt(2, limit);
            List<PreferencePair> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long id = rs.getLong(1);
                    boolean aWins = Choice.fromWire(rs.getString(2)) == Choice.A;
                    int[] a = Rows.ints(rs, 4);
                    int[] b = Rows.ints(rs, 5);
                    out.add(PreferencePair.of(id, "vote " + id, Rows.ints(rs, 3), aWins ? a : b, aWins ? b : a,
                            rs.getInt(6)));
                }
            }
            return out;
        }
    }

    static List<VoteRecord> latestVotes(Connection c, int limit) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT " + Rows.VOTE_COLUMNS + " FROM preferences ORDER BY id DESC LIMIT ?")) {
            ps.setInt(1, limit);
            return votes(ps);
        }
    }

    /** Through the (annotator, pair_id) index: one person's votes, however many others there are. */
    static List<VoteRecord> latestVotesBy(Connection c, String annotator, int limit) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT " + Rows.VOTE_COLUMNS + " FROM preferences WHERE annotator = ? ORDER BY id DESC LIMIT ?")) {
            ps.setString(1, annotator);
            ps.setInt(2, limit);
            return votes(ps);
        }
    }

    private static List<VoteRecord> votes(PreparedStatement ps) throws SQLException {
        List<VoteRecord> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(Rows.vote(rs));
            }
        }
        return out;
    }

    static Optional<TrainerCheckpoint> latestCheckpoint(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT " + Rows.CHECKPOINT_COLUMNS + " FROM trainer_checkpoints ORDER BY id DESC LIMIT 1");
             ResultSet rs = ps.executeQuery()) {
            return rs.next() ? Optional.of(Rows.checkpoint(rs)) : Optional.empty();
        }
    }

    static List<PreferenceStore.PolicyVersion> policyVersions(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT " + Rows.POLICY_VERSION_COLUMNS + " FROM policy_versions ORDER BY version");
             ResultSet rs = ps.executeQuery()) {
            List<PreferenceStore.PolicyVersion> out = new ArrayList<>();
            while (rs.next()) {
                out.add(Rows.policyVersion(rs));
            }
            return out;
        }
    }

    /**
     * byAnnotator leaves out anonymous votes (no name to key them by); they are in the totals. One read transaction,
     * so the numbers agree with each other even while votes keep arriving.
     */
    static StoreStats stats(Connection c) throws SQLException {
        c.setAutoCommit(false);
        try {
            long prompts = count(c, "SELECT COUNT(*) FROM prompts");
            long pairs = count(c, "SELECT COUNT(*) FROM pairs");
            long votes = count(c, "SELECT COUNT(*) FROM preferences");
            // Votes on policy pairs only: gold and battle votes are never (battles: not by default) trained on. Their
            // count is read from the few non-policy pairs (CROSS JOIN: SQLite keeps that order, index pairs_not_policy).
            long untrained = count(c, "SELECT COUNT(*) FROM preferences"
                    + " WHERE trained_at_version IS NULL AND choice IN ('a', 'b')")
                    - count(c, "SELECT COUNT(*) FROM pairs p CROSS JOIN preferences v WHERE v.pair_id = p.pair_id"
                    + " AND p.kind <> 'policy' AND v.trained_at_version IS NULL AND v.choice IN ('a', 'b')");
            Map<String, Long> byChoice = new LinkedHashMap<>();
            for (Choice ch : Choice.values()) {
                byChoice.put(ch.wire(), 0L);
            }
            Map<String, Long> byAnnotator = new LinkedHashMap<>();
            Map<Integer, Long> byVersion = new LinkedHashMap<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT choice, COUNT(*) FROM preferences GROUP BY choice");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    byChoice.put(rs.getString(1), rs.getLong(2));
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT annotator, COUNT(*) FROM preferences"
                    + " WHERE annotator IS NOT NULL GROUP BY annotator ORDER BY annotator");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    byAnnotator.put(rs.getString(1), rs.getLong(2));
                }
            }
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT p.policy_version, COUNT(*) FROM preferences v JOIN pairs p ON p.pair_id = v.pair_id
                    GROUP BY p.policy_version ORDER BY p.policy_version""");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    byVersion.put(rs.getInt(1), rs.getLong(2));
                }
            }
            return new StoreStats(prompts, pairs, votes, Collections.unmodifiableMap(byChoice),
                    Collections.unmodifiableMap(byAnnotator), Collections.unmodifiableMap(byVersion), untrained,
                    campaign(c));
        } finally {
            c.rollback();
            c.setAutoCommit(true);
        }
    }

    private static PreferenceStore.Campaign campaign(Connection c) throws SQLException {
        Map<String, Long> skips = new LinkedHashMap<>();
        for (PreferenceStore.SkipReason r : PreferenceStore.SkipReason.values()) {
            skips.put(r.wire(), 0L);
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT reason, COUNT(*) FROM skips GROUP BY reason");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                skips.put(rs.getString(1), rs.getLong(2));
            }
        }
        return new PreferenceStore.Campaign(Collections.unmodifiableMap(skips),
                count(c, "SELECT COUNT(*) FROM pairs WHERE flagged_harmful = 1"),
                count(c, "SELECT COUNT(*) FROM pair_flags"),
                count(c, "SELECT COUNT(*) FROM preferences WHERE retracted_at IS NOT NULL"),
                count(c, "SELECT COUNT(*) FROM training_items"),
                count(c, "SELECT COUNT(*) FROM training_items WHERE trained_at_version IS NULL"));
    }

    private static long count(Connection c, String sql) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
