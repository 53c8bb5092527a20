package org.pairwise.server.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.UUID;
import org.pairwise.server.store.GroupCommitWriter.Tx;
import org.pairwise.server.store.GroupCommitWriter.Work;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.PreferenceStore.GoldPair;
import org.pairwise.server.store.PreferenceStore.SkipReason;
import org.pairwise.server.store.PreferenceStore.SkipResult;
import org.pairwise.server.store.PreferenceStore.UndoResult;
import org.pairwise.server.store.PreferenceStore.VoteRecord;

/**
 * Undo, skips, pair flags, gold pairs and annotator flags, as writer work. The undo window is checked with the clock
 * read inside the work, as the finaliser's is: both run on the one writer, so a change and the finalising of the same
 * vote are ordered, and a vote is never changed after it became a training item.
 */
final class CampaignWrites {
    private CampaignWrites() {}

    /** Changes (choice non-null) or withdraws (null) the annotator's own live vote while its window is open. */
    static Work<UndoResult> undo(long voteId, String annotator, Choice choice, long windowMillis) {
        return tx -> {
            long now = System.currentTimeMillis();
            PreparedStatement ps = tx.prepare("SELECT " + Rows.VOTE_COLUMNS
                    + ", retracted_at FROM preferences WHERE id = ? AND annotator = ?");
            ps.setLong(1, voteId);
            ps.setString(2, annotator);
            VoteRecord v;
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return new UndoResult(UndoResult.Outcome.NOT_FOUND, null);  // someone else's reads the same
                }
                v = Rows.vote(rs);
                rs.getLong(9);
                if (!rs.wasNull()) {
                    return new UndoResult(UndoResult.Outcome.ALREADY_WITHDRAWN, v);
                }
            }
            if (now >= v.createdAtMillis() + windowMillis) {
                return new UndoResult(UndoResult.Outcome.WINDOW_CLOSED, v);
            }
            if (choice == null) {
                PreparedStatement w = tx.prepare("UPDATE preferences SET retracted_at = ? WHERE id = ?");
                w.setLong(1, now);
                w.setLong(2, voteId);
                w.executeUpdate();
                Assignments.withdrawn(tx, v.pairId(), annotator, now);
                return new UndoResult(UndoResult.Outcome.WITHDRAWN, v);
            }
            PreparedStatement c = tx.prepare("UPDATE preferences SET choice = ?, changed_at = ? WHERE id = ?");
            c.setString(1, choice.wire());
            c.setLong(2, now);
            c.setLong(3, voteId);
            c.executeUpdate();
            return new UndoResult(UndoResult.Outcome.CHANGED, new VoteRecord(v.id(), v.pairId(), choice,
                    v.annotator(), v.idempotencyKey(), v.comment(), v.createdAtMillis(), v.trainedAtVersion()));
        };
    }

    /** A skip with its reason; "harmful" flags the pair, which then is neither served nor trained on. */
    static Work<SkipResult> skip(String pairId, String annotator, SkipReason reason, String comment) {
        return tx -> {
            long now = System.currentTimeMillis();
            if (!exists(tx, "SELECT 1 FROM pairs WHERE pair_id = ?", pairId)) {
                return SkipResult.UNKNOWN_PAIR;
            }
            if (annotator != null && exists(tx, "SELECT 1 FROM preferences WHERE pair_id = ? AND annotator = ?"
                    + " AND retracted_at IS NULL", pairId, annotator)) {
                return SkipResult.ALREADY_VOTED;
            }
            if (annotator != null && exists(tx, "SELECT 1 FROM skips WHERE pair_id = ? AND annotator = ?",
                    pairId, annotator)) {
                return SkipResult.DUPLICATE;
            }
            PreparedStatement ps = tx.prepare(
                    "INSERT INTO skips (pair_id, annotator, reason, comment, created_at) VALUES (?, ?, ?, ?, ?)");
            ps.setString(1, pairId);
            ps.setString(2, annotator);
            ps.setString(3, reason.wire());
            ps.setString(4, comment);
            ps.setLong(5, now);
            ps.executeUpdate();
            if (reason == SkipReason.HARMFUL) {
                PreparedStatement f = tx.prepare("UPDATE pairs SET flagged_harmful = 1 WHERE pair_id = ?");
                f.setString(1, pairId);
                f.executeUpdate();
            }
            if (annotator != null) {
                Assignments.skipped(tx, pairId, annotator, now);
            }
            return SkipResult.SKIPPED;
        };
    }

    /** A comment on a pair (a flag for the admin); returns its id, or -1 for an unknown pair. */
    static Work<Long> flagPair(String pairId, String annotator, String comment) {
        return tx -> {
            if (!exists(tx, "SELECT 1 FROM pairs WHERE pair_id = ?", pairId)) {
                return -1L;
            }
            PreparedStatement ps = tx.prepare(
                    "INSERT INTO pair_flags (pair_id, annotator, comment, created_at) VALUES (?, ?, ?, ?)");
            ps.setString(1, pairId);
            ps.setString(2, annotator);
            ps.setString(3, comment);
            ps.setLong(4, System.currentTimeMillis());
            ps.executeUpdate();
            return tx.lastInsertRowid();
        };
    }

    /**
     * Stores a gold pair: its prompt, the right response on side A when {@code rightOnA} (the caller randomises), and
     * no tokens (a gold pair is never trained on). k is {@link CampaignSchema#GOLD_VOTES_WANTED}: everyone sees it.
     */
    static Work<String> addGold(GoldPair g, boolean rightOnA) {
        return tx -> {
            long now = System.currentTimeMillis();
            PreparedStatement pr = tx.prepare(
                    "INSERT INTO prompts (source, text, messages_json, created_at) VALUES ('gold', ?, ?, ?)");
            pr.setString(1, g.promptText());
            pr.setString(2, g.messagesJson());
            pr.setLong(3, now);
            pr.executeUpdate();
            long promptId = tx.lastInsertRowid();
            String id = UUID.randomUUID().toString();
            PreparedStatement ps = tx.prepare("""
                    INSERT INTO pairs (pair_id, prompt_id, prompt_text, a_text, a_finish, b_text, b_finish,
                        a_is_first_sample, policy_version, created_at, kind, votes_wanted, gold_choice)
                    VALUES (?, ?, ?, ?, 'stop', ?, 'stop', ?, 0, ?, 'gold', ?, ?)""");
            ps.setString(1, id);
            ps.setLong(2, promptId);
            ps.setString(3, g.promptText());
            ps.setString(4, rightOnA ? g.right() : g.wrong());
            ps.setString(5, rightOnA ? g.wrong() : g.right());
            ps.setInt(6, rightOnA ? 1 : 0);
            ps.setLong(7, now);
            ps.setInt(8, CampaignSchema.GOLD_VOTES_WANTED);
            ps.setString(9, rightOnA ? "a" : "b");
            ps.executeUpdate();
            return id;
        };
    }

    /** Sets an annotator's quality flag (kept apart from accounts: open and token identities are flagged too). */
    static Work<Void> setAnnotatorFlag(String annotator, boolean flagged, String reason, String by) {
        return tx -> {
            PreparedStatement ps = tx.prepare("""
                    INSERT INTO annotator_flags (annotator, flagged, reason, changed_at, changed_by)
                    VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (annotator) DO UPDATE SET flagged = excluded.flagged, reason = excluded.reason,
                        changed_at = excluded.changed_at, changed_by = excluded.changed_by""");
            ps.setString(1, annotator);
            ps.setInt(2, flagged ? 1 : 0);
            ps.setString(3, reason);
            ps.setLong(4, System.currentTimeMillis());
            ps.setString(5, by);
            ps.executeUpdate();
            return null;
        };
    }

    /**
     * Marks items trained at this version, and the votes behind them: the item's vote, or an aggregated item's live
     * votes by annotators not flagged now. The first consumption wins, as for votes.
     */
    static Work<Void> markItemsTrained(List<Long> itemIds, int policyVersion) {
        return tx -> {
            PreparedStatement item = tx.prepare(
                    "UPDATE training_items SET trained_at_version = ? WHERE id = ? AND trained_at_version IS NULL");
            PreparedStatement votes = tx.prepare("""
                    UPDATE preferences SET trained_at_version = ?
                    WHERE trained_at_version IS NULL AND retracted_at IS NULL AND (
                        id = (SELECT vote_id FROM training_items WHERE id = ?)
                        OR (pair_id = (SELECT pair_id FROM training_items WHERE id = ? AND vote_id IS NULL)
                            AND choice IN ('a', 'b') AND NOT EXISTS (SELECT 1 FROM annotator_flags af
                                WHERE af.annotator = preferences.annotator AND af.flagged = 1)))""");
            for (long id : itemIds) {
                item.setInt(1, policyVersion);
                item.setLong(2, id);
                item.executeUpdate();
                votes.setInt(1, policyVersion);
                votes.setLong(2, id);
                votes.setLong(3, id);
                votes.executeUpdate();
            }
            return null;
        };
    }

    /**
     * Marks every item up to {@code lastItemId} that is not marked yet: a trainer resuming from a checkpoint knows its
     * lineage trained them, but the process that took the last step may have died before its marks were stored.
     */
    static Work<Integer> markTrainedThrough(long lastItemId, int policyVersion) {
        return tx -> {
            PreparedStatement ps = tx.prepare(
                    "SELECT id FROM training_items WHERE id <= ? AND trained_at_version IS NULL ORDER BY id");
            ps.setLong(1, lastItemId);
            List<Long> ids = new java.util.ArrayList<>();
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getLong(1));
                }
            }
            markItemsTrained(ids, policyVersion).run(tx);
            return ids.size();
        };
    }

    static boolean exists(Tx tx, String sql, Object... keys) throws SQLException {
        PreparedStatement ps = tx.prepare(sql);
        for (int i = 0; i < keys.length; i++) {
            ps.setObject(i + 1, keys[i]);
        }
        try (ResultSet rs = ps.executeQuery()) {
            return rs.next();
        }
    }
}
