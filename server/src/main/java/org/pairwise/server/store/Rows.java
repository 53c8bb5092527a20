package org.pairwise.server.store;

import java.sql.ResultSet;
import java.sql.SQLException;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.PreferenceStore.PairRecord;
import org.pairwise.server.store.PreferenceStore.PromptRecord;
import org.pairwise.server.store.PreferenceStore.TrainerCheckpoint;
import org.pairwise.server.store.PreferenceStore.VoteRecord;

/** Column lists and row-to-record mapping, shared by the writer (dedupe lookups) and the readers. */
final class Rows {
    private Rows() {}

    static final String PROMPT_COLUMNS = "id, source, text, messages_json, created_at";

    static final String PAIR_COLUMNS = "pair_id, prompt_id, prompt_text, prompt_ids, a_text, a_token_ids, a_logprobs,"
            + " a_finish, b_text, b_token_ids, b_logprobs, b_finish, a_is_first_sample, policy_version, settings_json,"
            + " created_at";

    static final String VOTE_COLUMNS =
            "id, pair_id, choice, annotator, idempotency_key, comment, created_at, trained_at_version";

    static final String CHECKPOINT_COLUMNS = "step, policy_version, last_vote_id, path, created_at";

    static final String POLICY_VERSION_COLUMNS = "version, step, path, published_at";

    static PromptRecord prompt(ResultSet rs) throws SQLException {
        return new PromptRecord(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getLong(5));
    }

    static PairRecord pair(ResultSet rs) throws SQLException {
        return new PairRecord(rs.getString(1), rs.getLong(2), rs.getString(3), ints(rs, 4), rs.getString(5),
                ints(rs, 6), floats(rs, 7), rs.getString(8), rs.getString(9), ints(rs, 10), floats(rs, 11),
                rs.getString(12), rs.getInt(13) != 0, rs.getInt(14), rs.getString(15), rs.getLong(16));
    }

    static VoteRecord vote(ResultSet rs) throws SQLException {
        int trained = rs.getInt(8);
        Integer trainedAt = rs.wasNull() ? null : trained;
        return new VoteRecord(rs.getLong(1), rs.getString(2), Choice.fromWire(rs.getString(3)), rs.getString(4),
                rs.getString(5), rs.getString(6), rs.getLong(7), trainedAt);
    }

    static TrainerCheckpoint checkpoint(ResultSet rs) throws SQLException {
        return new TrainerCheckpoint(rs.getLong(1), rs.getInt(2), rs.getLong(3), rs.getString(4), rs.getLong(5));
    }

    static PreferenceStore.PolicyVersion policyVersion(ResultSet rs) throws SQLException {
        return new PreferenceStore.PolicyVersion(rs.getInt(1), rs.getLong(2), rs.getString(3), rs.getLong(4));
    }

    static int[] ints(ResultSet rs, int column) throws SQLException {
        return Blobs.ints(blob(rs, column));
    }

    static float[] floats(ResultSet rs, int column) throws SQLException {
        return Blobs.floats(blob(rs, column));
    }

    // SQLite hands back a zero-length BLOB as a null pointer; only the column type tells it from SQL NULL.
    private static byte[] blob(ResultSet rs, int column) throws SQLException {
        byte[] bytes = rs.getBytes(column);
        if (bytes == null && !rs.wasNull()) {
            return new byte[0];
        }
        return bytes;
    }
}
