package org.pairwise.server.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.pairwise.server.store.GroupCommitWriter.Tx;
import org.pairwise.server.store.GroupCommitWriter.Work;
import org.pairwise.server.store.PreferenceStore.Aggregation;
import org.pairwise.server.store.PreferenceStore.Finalising;

/**
 * Turns votes whose label is final into training_items, the trainer's queue; writer work, so it is ordered with
 * every vote, change and withdrawal. A vote is final once its undo window has passed. {@code each}: one item per
 * final A/B vote, in vote order. {@code majority}/{@code soft}: one item per pair once its k votes are in, or it was
 * handed out k times and no lease is left, and every vote's window has passed; the direction is the plurality of
 * A over B over tie/both-bad (an A/B tie or a tie/both-bad plurality is recorded as the pair's outcome and gives no
 * item), and {@code soft} sets label_smoothing to the minority's share of the A/B votes (cDPO, 2 of 3: 1/3).
 * Gold pairs, battle pairs (unless {@code trainOnBattles}: they are then off-policy pairs) and pairs flagged harmful
 * give no items; votes of flagged annotators do not count while {@code excludeFlagged} holds.
 *
 * <p>Items are decided once: a vote has at most one item (UNIQUE vote_id) and a pair at most one aggregated item
 * (a partial unique index) plus its {@code aggregated_at}. Votes an earlier pass left out (a flagged annotator's)
 * are looked at again after {@link #rescan()}.
 */
final class Finaliser {
    /** Votes with ids up to here have all been decided in each mode. Writer thread only; 0 after a start. */
    private long eachWatermark;
    /**
     * How long a vote's transaction may take to commit after its row got its id and time (with some clock skew
     * between nodes): the watermark stays below votes younger than this.
     */
    static final long COMMIT_HORIZON_MS = 10_000;
    /** Pairs looked at per pass in majority mode: a bound on one transaction's work. */
    private static final int PAIRS_PER_PASS = 500;

    /** Looks at every vote again on the next pass (an annotator was un-flagged). Writer thread only. */
    void rescan() {
        eachWatermark = 0;
    }

    Work<Integer> pass(Finalising f) {
        return tx -> {
            long now = System.currentTimeMillis();
            Assignments.expireOverdue(tx, now);
            return f.aggregation() == Aggregation.EACH ? each(tx, f, now) : aggregate(tx, f, now);
        };
    }

    private int each(Tx tx, Finalising f, long now) throws SQLException {
        long cut = now - f.undoWindowMillis();
        // The highest id below which every vote is past its window: votes are itemised in id order.
        long hi;
        PreparedStatement open = tx.prepare("SELECT MIN(id) FROM preferences WHERE id > ? AND created_at > ?");
        open.setLong(1, eachWatermark);
        open.setLong(2, cut);
        try (ResultSet rs = open.executeQuery()) {
            rs.next();
            long firstOpen = rs.getLong(1);
            hi = rs.wasNull() ? Long.MAX_VALUE : firstOpen - 1;
        }
        if (hi <= eachWatermark) {
            return 0;
        }
        PreparedStatement ins = tx.prepare("""
                INSERT INTO training_items (pair_id, vote_id, chosen, votes, created_at)
                SELECT v.pair_id, v.id, v.choice, 1, ? FROM preferences v JOIN pairs p ON p.pair_id = v.pair_id
                WHERE v.id > ? AND v.id <= ? AND v.retracted_at IS NULL AND v.choice IN ('a', 'b')
                  AND (p.kind = 'policy' OR (p.kind = 'battle' AND ? = 1)) AND p.flagged_harmful = 0
                  AND (p.aggregated_at IS NULL OR p.aggregate_outcome = 'per_vote')
                  AND NOT EXISTS (SELECT 1 FROM training_items t WHERE t.vote_id = v.id)
                  AND (? = 0 OR NOT EXISTS (SELECT 1 FROM annotator_flags af
                                            WHERE af.annotator = v.annotator AND af.flagged = 1))
                ORDER BY v.id""");
        ins.setLong(1, now);
        ins.setLong(2, eachWatermark);
        ins.setLong(3, hi);
        ins.setInt(4, f.trainOnBattles() ? 1 : 0);
        ins.setInt(5, f.excludeFlagged() ? 1 : 0);
        int added = ins.executeUpdate();
        if (hi == Long.MAX_VALUE) {
            PreparedStatement max = tx.prepare("SELECT COALESCE(MAX(id), 0) FROM preferences");
            try (ResultSet rs = max.executeQuery()) {
                rs.next();
                hi = Math.max(eachWatermark, rs.getLong(1));
            }
        }
        if (tx.dialect().concurrentWriters()) {
            // Several nodes insert votes into one database: a vote whose id is below the newest one seen may still
            // be in another node's open transaction, invisible here. Such a vote drew its id after every vote older
            // than a commit horizon, so the watermark goes no further than the newest of those, and the vote is
            // itemised by a later pass (the insert skips votes that have an item).
            PreparedStatement settled = tx.prepare("SELECT COALESCE(MAX(id), 0) FROM preferences WHERE created_at <= ?");
            settled.setLong(1, now - COMMIT_HORIZON_MS);
            try (ResultSet rs = settled.executeQuery()) {
                rs.next();
                hi = Math.min(hi, rs.getLong(1));
            }
        }
        long reached = Math.max(eachWatermark, hi);
        tx.afterCommit(() -> eachWatermark = reached);  // a pass whose batch fails to commit leaves it where it was
        return added;
    }

    private record Candidate(String pairId, int votesWanted) {}

    private int aggregate(Tx tx, Finalising f, long now) throws SQLException {
        PreparedStatement find = tx.prepare("""
                SELECT p.pair_id, p.votes_wanted FROM pairs p
                WHERE p.aggregated_at IS NULL AND (p.kind = 'policy' OR (p.kind = 'battle' AND ? = 1))
                  AND p.flagged_harmful = 0 AND EXISTS (SELECT 1 FROM preferences v WHERE v.pair_id = p.pair_id AND v.retracted_at IS NULL)
                  AND NOT EXISTS (SELECT 1 FROM training_items t WHERE t.pair_id = p.pair_id)
                ORDER BY p.created_at LIMIT ?""");
        find.setInt(1, f.trainOnBattles() ? 1 : 0);
        find.setInt(2, PAIRS_PER_PASS);
        List<Candidate> candidates = new ArrayList<>();
        try (ResultSet rs = find.executeQuery()) {
            while (rs.next()) {
                candidates.add(new Candidate(rs.getString(1), rs.getInt(2)));
            }
        }
        int added = 0;
        for (Candidate c : candidates) {
            added += decide(tx, f, c, now);
        }
        return added;
    }

    private int decide(Tx tx, Finalising f, Candidate c, long now) throws SQLException {
        PreparedStatement votes = tx.prepare("""
                SELECT v.choice, v.created_at, COALESCE(af.flagged, 0) FROM preferences v
                LEFT JOIN annotator_flags af ON af.annotator = v.annotator
                WHERE v.pair_id = ? AND v.retracted_at IS NULL""");
        votes.setString(1, c.pairId());
        int live = 0, a = 0, b = 0, other = 0;
        try (ResultSet rs = votes.executeQuery()) {
            while (rs.next()) {
                if (rs.getLong(2) > now - f.undoWindowMillis()) {
                    return 0;  // a vote may still change
                }
                live++;
                if (f.excludeFlagged() && rs.getInt(3) == 1) {
                    continue;
                }
                switch (rs.getString(1)) {
                    case "a" -> a++;
                    case "b" -> b++;
                    default -> other++;
                }
            }
        }
        if (live < c.votesWanted() && !handedOutAndDone(tx, c)) {
            return 0;
        }
        if (a + b + other == 0) {
            return 0;  // only flagged annotators voted: wait, an un-flag makes their votes count
        }
        int top = Math.max(a, b);
        String outcome = top <= other ? "no_preference" : a == b ? "tie" : a > b ? "a" : "b";
        PreparedStatement mark = tx.prepare(
                "UPDATE pairs SET aggregated_at = ?, aggregate_outcome = ? WHERE pair_id = ?");
        mark.setLong(1, now);
        mark.setString(2, outcome);
        mark.setString(3, c.pairId());
        mark.executeUpdate();
        if (!outcome.equals("a") && !outcome.equals("b")) {
            return 0;
        }
        PreparedStatement ins = tx.prepare("INSERT INTO training_items (pair_id, chosen, label_smoothing, votes,"
                + " created_at) VALUES (?, ?, ?, ?, ?)");
        ins.setString(1, c.pairId());
        ins.setString(2, outcome);
        if (f.aggregation() == Aggregation.SOFT) {
            ins.setDouble(3, (double) Math.min(a, b) / (a + b));
        } else {
            ins.setNull(3, java.sql.Types.REAL);
        }
        ins.setInt(4, a + b + other);
        ins.setLong(5, now);
        ins.executeUpdate();
        return 1;
    }

    /** Whether the pair was handed out k times and none of those leases is still running. */
    private static boolean handedOutAndDone(Tx tx, Candidate c) throws SQLException {
        PreparedStatement ps = tx.prepare("SELECT COUNT(*), COALESCE(SUM(CASE WHEN state = 'leased' THEN 1 ELSE 0"
                + " END), 0) FROM assignments WHERE pair_id = ?");
        ps.setString(1, c.pairId());
        try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getInt(1) >= c.votesWanted() && rs.getInt(2) == 0;
        }
    }
}
