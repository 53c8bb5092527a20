package org.pairwise.server.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.pairwise.server.store.GroupCommitWriter.Work;
import org.pairwise.server.store.PreferenceStore.BattleVote;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.PreferenceStore.PairRecord;

/**
 * Battles in the store: a battle is a pair (kind 'battle') whose two sides come from two policy versions,
 * a_policy_version and b_policy_version in the order shown; its policy_version is the version served when it was
 * made (what the annotator's page shows for any pair). Its votes take the same leases, overlap and undo as any other
 * pair's; the finaliser makes training items from them only with train_on_battles.
 */
final class Battles {
    private Battles() {}

    /** Stores a battle pair: {@link Writes#addPair} then its kind and the two sides' versions, in one transaction. */
    static Work<Void> add(PairRecord p, long createdAt, int votesWanted, int aVersion, int bVersion) {
        if (aVersion == bVersion) {
            throw new IllegalArgumentException("a battle needs two different policy versions, got v" + aVersion
                    + " twice");
        }
        Work<Void> pair = Writes.addPair(p, createdAt, votesWanted);
        return tx -> {
            pair.run(tx);
            PreparedStatement ps = tx.prepare("UPDATE pairs SET kind = 'battle', a_policy_version = ?,"
                    + " b_policy_version = ? WHERE pair_id = ?");
            ps.setInt(1, aVersion);
            ps.setInt(2, bVersion);
            ps.setString(3, p.pairId());
            ps.executeUpdate();
            return null;
        };
    }

    /**
     * The votes the leaderboard counts, in vote order: live (not withdrawn) votes on battle pairs not flagged
     * harmful, without those of flagged annotators when {@code excludeFlagged} (as the trainer leaves them out).
     */
    static List<BattleVote> votes(Connection c, boolean excludeFlagged) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT v.pair_id, p.a_policy_version, p.b_policy_version, v.choice, v.annotator, v.created_at
                FROM preferences v JOIN pairs p ON p.pair_id = v.pair_id
                WHERE p.kind = 'battle' AND p.flagged_harmful = 0 AND v.retracted_at IS NULL
                  AND (? = 0 OR NOT EXISTS (SELECT 1 FROM annotator_flags af
                                            WHERE af.annotator = v.annotator AND af.flagged = 1))
                ORDER BY v.id""")) {
            ps.setInt(1, excludeFlagged ? 1 : 0);
            ps.setFetchSize(4096);
            List<BattleVote> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new BattleVote(rs.getString(1), rs.getInt(2), rs.getInt(3),
                            Choice.fromWire(rs.getString(4)), rs.getString(5), rs.getLong(6)));
                }
            }
            return out;
        }
    }

    /** The newest policy pairs this version sampled (both sides are its samples), newest first. */
    static List<PairRecord> recentPairs(Connection c, int policyVersion, int limit) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + Rows.PAIR_COLUMNS + " FROM pairs"
                + " WHERE kind = 'policy' AND policy_version = ? ORDER BY created_at DESC LIMIT ?")) {
            ps.setInt(1, policyVersion);
            ps.setInt(2, limit);
            List<PairRecord> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(Rows.pair(rs));
                }
            }
            return out;
        }
    }
}
