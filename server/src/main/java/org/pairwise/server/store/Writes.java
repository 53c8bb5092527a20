package org.pairwise.server.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Objects;
import org.pairwise.server.store.GroupCommitWriter.Tx;
import org.pairwise.server.store.GroupCommitWriter.Work;
import org.pairwise.server.store.PreferenceStore.PairRecord;
import org.pairwise.server.store.PreferenceStore.PolicyVersion;
import org.pairwise.server.store.PreferenceStore.TrainerCheckpoint;
import org.pairwise.server.store.PreferenceStore.VoteRecord;
import org.pairwise.server.store.PreferenceStore.VoteRequest;
import org.pairwise.server.store.PreferenceStore.VoteResult;

/**
 * The writes, as work for the writer thread. Every check (does the pair exist, is this vote a duplicate) runs inside
 * the writer's transaction, after all earlier writes of the same batch: two identical submissions are serialised by
 * the one writer, so exactly one of them is Created.
 */
final class Writes {
    private Writes() {}

    static Work<Long> addPrompt(String source, String text, String messagesJson, long now) {
        return tx -> {
            PreparedStatement ps = tx.prepare(
                    "INSERT INTO prompts (source, text, messages_json, created_at) VALUES (?, ?, ?, ?)");
            ps.setString(1, source);
            ps.setString(2, text);
            ps.setString(3, messagesJson);
            ps.setLong(4, now);
            ps.executeUpdate();
            return tx.lastInsertRowid();
        };
    }

    static Work<Void> addPair(PairRecord p, long createdAt) {
        return addPair(p, createdAt, 1);
    }

    /** votesWanted: k, the number of different annotators the pair is handed to. */
    static Work<Void> addPair(PairRecord p, long createdAt, int votesWanted) {
        return tx -> {
            // Checked here rather than left to the constraints, whose messages do not say which key failed.
            if (!exists(tx, "SELECT 1 FROM prompts WHERE id = ?", p.promptId())) {
                throw new IllegalArgumentException("pair " + p.pairId() + " names unknown prompt id " + p.promptId());
            }
            if (exists(tx, "SELECT 1 FROM pairs WHERE pair_id = ?", p.pairId())) {
                throw new IllegalArgumentException("pair " + p.pairId() + " is already stored");
            }
            PreparedStatement ps = tx.prepare("INSERT INTO pairs (" + Rows.PAIR_COLUMNS + ", votes_wanted)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
            ps.setString(1, p.pairId());
            ps.setLong(2, p.promptId());
            ps.setString(3, p.promptText());
            ps.setBytes(4, Blobs.ints(p.promptIds()));
            ps.setString(5, p.aText());
            ps.setBytes(6, Blobs.ints(p.aTokenIds()));
            ps.setBytes(7, Blobs.floats(p.aLogprobs()));
            ps.setString(8, p.aFinish());
            ps.setString(9, p.bText());
            ps.setBytes(10, Blobs.ints(p.bTokenIds()));
            ps.setBytes(11, Blobs.floats(p.bLogprobs()));
            ps.setString(12, p.bFinish());
            ps.setInt(13, p.aIsFirstSample() ? 1 : 0);
            ps.setInt(14, p.policyVersion());
            ps.setString(15, p.settingsJson());
            ps.setLong(16, createdAt);
            ps.setInt(17, votesWanted);
            ps.executeUpdate();
            return null;
        };
    }

    static Work<VoteResult> recordVote(VoteRequest v, long now) {
        return tx -> {
            if (!exists(tx, "SELECT 1 FROM pairs WHERE pair_id = ?", v.pairId())) {
                return new VoteResult.UnknownPair(v.pairId());
            }
            VoteResult prior = prior(tx, v);
            if (prior != null) {
                return prior;
            }
            // The guidelines in force when the vote is stored: the version the voter's page shows. DO NOTHING: on a
            // store several nodes write, another node's writer may store the same vote (key, or annotator and pair)
            // between the check above and this insert; the unique constraints then refuse this one, and it is
            // answered as the check answers it now.
            PreparedStatement ps = tx.prepare("INSERT INTO preferences (pair_id, choice, annotator, idempotency_key,"
                    + " comment, created_at, guideline_version) VALUES (?, ?, ?, ?, ?, ?, ("
                    + AccountStore.currentGuidelineVersionSql + ")) ON CONFLICT DO NOTHING");
            ps.setString(1, v.pairId());
            ps.setString(2, v.choice().wire());
            ps.setString(3, v.annotator());
            ps.setString(4, v.idempotencyKey());
            ps.setString(5, v.comment());
            ps.setLong(6, now);
            if (ps.executeUpdate() == 0) {
                VoteResult other = prior(tx, v);
                if (other == null) {
                    throw new IllegalStateException("a unique constraint refused the vote but no prior vote matches");
                }
                return other;
            }
            long id = tx.lastInsertRowid();
            Assignments.voted(tx, v.pairId(), v.annotator(), now);
            return new VoteResult.Created(new VoteRecord(id, v.pairId(), v.choice(), v.annotator(),
                    v.idempotencyKey(), v.comment(), now, null));
        };
    }

    /** The stored vote this one repeats (Duplicate) or contradicts (Conflict), or null when it is new. */
    private static VoteResult prior(Tx tx, VoteRequest v) throws SQLException {
        if (v.idempotencyKey() != null) {
            VoteRecord prior = findVote(tx, "idempotency_key = ?", v.idempotencyKey());
            if (prior != null) {
                // A retry carries the same key and says the same thing; the same key saying something else
                // is a client bug, not a retry.
                boolean same = prior.pairId().equals(v.pairId()) && prior.choice() == v.choice()
                        && Objects.equals(prior.annotator(), v.annotator());
                return same ? new VoteResult.Duplicate(prior) : new VoteResult.Conflict(prior);
            }
        }
        if (v.annotator() != null) {
            VoteRecord prior = findVote(tx, "annotator = ? AND pair_id = ? AND retracted_at IS NULL",
                    v.annotator(), v.pairId());
            if (prior != null) {
                return prior.choice() == v.choice() ? new VoteResult.Duplicate(prior) : new VoteResult.Conflict(prior);
            }
        }
        return null;
    }

    /** The first consumption wins: a vote re-marked later keeps the version it was first trained at. */
    static Work<Void> markTrained(List<Long> voteIds, int policyVersion) {
        return tx -> {
            PreparedStatement ps = tx.prepare(
                    "UPDATE preferences SET trained_at_version = ? WHERE id = ? AND trained_at_version IS NULL");
            for (long id : voteIds) {
                ps.setInt(1, policyVersion);
                ps.setLong(2, id);
                ps.executeUpdate();
            }
            return null;
        };
    }

    static Work<Void> recordCheckpoint(TrainerCheckpoint c, long createdAt) {
        return tx -> {
            tx.update("INSERT INTO trainer_checkpoints (" + Rows.CHECKPOINT_COLUMNS + ") VALUES (?, ?, ?, ?, ?)",
                    c.step(), c.policyVersion(), c.lastVoteId(), c.path(), createdAt);
            return null;
        };
    }

    static Work<Void> recordPolicyVersion(PolicyVersion v, long publishedAt) {
        return tx -> {
            tx.update("INSERT INTO policy_versions (" + Rows.POLICY_VERSION_COLUMNS + ") VALUES (?, ?, ?, ?)"
                    + " ON CONFLICT (version) DO NOTHING", v.version(), v.step(), v.path(), publishedAt);
            return null;
        };
    }

    private static boolean exists(Tx tx, String sql, Object key) throws SQLException {
        PreparedStatement ps = tx.prepare(sql);
        ps.setObject(1, key);
        try (ResultSet rs = ps.executeQuery()) {
            return rs.next();
        }
    }

    private static VoteRecord findVote(Tx tx, String where, Object... keys) throws SQLException {
        PreparedStatement ps = tx.prepare("SELECT " + Rows.VOTE_COLUMNS + " FROM preferences WHERE " + where);
        for (int i = 0; i < keys.length; i++) {
            ps.setObject(i + 1, keys[i]);
        }
        try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? Rows.vote(rs) : null;
        }
    }
}
