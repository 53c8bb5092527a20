package org.pairwise.server.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.pairwise.server.store.GroupCommitWriter.Tx;
import org.pairwise.server.store.GroupCommitWriter.Work;

/**
 * Leases, as writer work. A lease raises {@code pairs.assigned} with {@code WHERE assigned < votes_wanted} in the same
 * transaction that inserts the (pair, annotator) row, so "at most k people hold or held a slot" is the CHECK on
 * assigned and "nobody twice" is the primary key; neither depends on this process. The clock is read inside the work:
 * the writer runs works one at a time, so a lease and the expiry that frees it never see different "nows".
 */
final class Assignments {
    private Assignments() {}

    /**
     * Ends every lease past its time: its slot goes back to the pair, its row stays (that person saw the pair). One
     * lease at a time, each ended by an update that re-checks its state under the row's lock, so when two nodes
     * expire the same lease at once only one of them gives its slot back.
     */
    static void expireOverdue(Tx tx, long now) throws SQLException {
        PreparedStatement overdue = tx.prepare(
                "SELECT pair_id, annotator FROM assignments WHERE state = 'leased' AND expires_at <= ?");
        overdue.setLong(1, now);
        List<String[]> leases = new ArrayList<>();
        try (ResultSet rs = overdue.executeQuery()) {
            while (rs.next()) {
                leases.add(new String[] {rs.getString(1), rs.getString(2)});
            }
        }
        PreparedStatement end = tx.prepare("UPDATE assignments SET state = 'expired'"
                + " WHERE pair_id = ? AND annotator = ? AND state = 'leased'");
        for (String[] lease : leases) {
            end.setString(1, lease[0]);
            end.setString(2, lease[1]);
            if (end.executeUpdate() == 1) {
                giveSlotBack(tx, lease[0]);
            }
        }
    }

    /**
     * Leases a pair of {@code kind} this annotator has not been handed: the one closest to its k votes first, then the
     * oldest. {@code startedOnly}: only pairs someone was handed already (the pool hands out fresh ones).
     */
    static Work<Optional<String>> leaseNext(String annotator, String kind, boolean startedOnly, long leaseMillis) {
        return tx -> {
            long now = System.currentTimeMillis();
            expireOverdue(tx, now);
            PreparedStatement ps = tx.prepare("""
                    SELECT p.pair_id FROM pairs p
                    WHERE p.kind = ? AND p.assigned < p.votes_wanted AND p.flagged_harmful = 0
                      AND p.aggregated_at IS NULL
                      AND (? = 0 OR EXISTS (SELECT 1 FROM assignments s WHERE s.pair_id = p.pair_id))
                      AND NOT EXISTS (SELECT 1 FROM assignments m WHERE m.pair_id = p.pair_id AND m.annotator = ?)
                    ORDER BY p.assigned DESC, p.created_at, p.pair_id LIMIT 1""");
            ps.setString(1, kind);
            ps.setInt(2, startedOnly ? 1 : 0);
            ps.setString(3, annotator);
            String pairId;
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                pairId = rs.getString(1);
            }
            return take(tx, pairId, annotator, now, leaseMillis) ? Optional.of(pairId) : Optional.empty();
        };
    }

    /** Leases this pair to this annotator; false when its k slots are taken or they were handed it before. */
    static Work<Boolean> lease(String pairId, String annotator, long leaseMillis) {
        return tx -> {
            long now = System.currentTimeMillis();
            expireOverdue(tx, now);
            return take(tx, pairId, annotator, now, leaseMillis);
        };
    }

    private static boolean take(Tx tx, String pairId, String annotator, long now, long leaseMillis)
            throws SQLException {
        PreparedStatement seen = tx.prepare("SELECT 1 FROM assignments WHERE pair_id = ? AND annotator = ?");
        seen.setString(1, pairId);
        seen.setString(2, annotator);
        try (ResultSet rs = seen.executeQuery()) {
            if (rs.next()) {
                return false;
            }
        }
        if (!takeSlot(tx, pairId)) {
            return false;
        }
        // DO NOTHING: another node may hand this person the same pair meanwhile; the primary key then keeps theirs.
        PreparedStatement ins = tx.prepare("INSERT INTO assignments (pair_id, annotator, leased_at, expires_at, state)"
                + " VALUES (?, ?, ?, ?, 'leased') ON CONFLICT DO NOTHING");
        ins.setString(1, pairId);
        ins.setString(2, annotator);
        ins.setLong(3, now);
        ins.setLong(4, now + leaseMillis);
        if (ins.executeUpdate() == 0) {
            giveSlotBack(tx, pairId);
            return false;
        }
        return true;
    }

    private static boolean takeSlot(Tx tx, String pairId) throws SQLException {
        PreparedStatement ps = tx.prepare(
                "UPDATE pairs SET assigned = assigned + 1 WHERE pair_id = ? AND assigned < votes_wanted");
        ps.setString(1, pairId);
        return ps.executeUpdate() == 1;
    }

    private static void giveSlotBack(Tx tx, String pairId) throws SQLException {
        PreparedStatement ps = tx.prepare("UPDATE pairs SET assigned = assigned - 1 WHERE pair_id = ? AND assigned > 0");
        ps.setString(1, pairId);
        ps.executeUpdate();
    }

    /** The annotator's assignment state on the pair, or null when they were never handed it. */
    static String state(Tx tx, String pairId, String annotator) throws SQLException {
        PreparedStatement ps = tx.prepare("SELECT state FROM assignments WHERE pair_id = ? AND annotator = ?");
        ps.setString(1, pairId);
        ps.setString(2, annotator);
        try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /**
     * A vote ends the voter's lease. A vote without a live lease (an own prompt's pair, a script, a lease that ran
     * out) takes a free slot when there is one; when there is none it is still stored (an acknowledged vote is never
     * refused for being slow), and the pair then has more votes than k.
     */
    static void voted(Tx tx, String pairId, String annotator, long now) throws SQLException {
        if (annotator == null) {
            return;
        }
        String state = state(tx, pairId, annotator);
        if (!"leased".equals(state)) {
            takeSlot(tx, pairId);
        }
        end(tx, pairId, annotator, now, "voted");
    }

    /** A withdrawn vote gives its slot back; the row stays, and the person may vote on the pair again. */
    static void withdrawn(Tx tx, String pairId, String annotator, long now) throws SQLException {
        giveSlotBack(tx, pairId);
        end(tx, pairId, annotator, now, "expired");
    }

    /** A skip ends the lease and gives the slot back: someone else judges the pair instead. */
    static void skipped(Tx tx, String pairId, String annotator, long now) throws SQLException {
        if ("leased".equals(state(tx, pairId, annotator))) {
            giveSlotBack(tx, pairId);
        }
        end(tx, pairId, annotator, now, "skipped");
    }

    private static void end(Tx tx, String pairId, String annotator, long now, String state) throws SQLException {
        PreparedStatement ps = tx.prepare("""
                INSERT INTO assignments (pair_id, annotator, leased_at, expires_at, state) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (pair_id, annotator) DO UPDATE SET state = excluded.state""");
        ps.setString(1, pairId);
        ps.setString(2, annotator);
        ps.setLong(3, now);
        ps.setLong(4, now);
        ps.setString(5, state);
        ps.executeUpdate();
    }
}
