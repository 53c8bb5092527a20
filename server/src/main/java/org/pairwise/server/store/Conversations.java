package org.pairwise.server.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.pairwise.server.store.GroupCommitWriter.Work;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.PreferenceStore.Continuation;
import org.pairwise.server.store.PreferenceStore.ContinuationStart;
import org.pairwise.server.store.PreferenceStore.PairRecord;
import org.pairwise.server.store.PreferenceStore.PromptRecord;

/**
 * Multi-turn conversations. A continued pair's prompt is a new prompts row whose messages_json is the whole
 * conversation so far: the parent's messages (or one user message holding a text prompt), the response its voter
 * preferred as the assistant's turn, and the voter's next user message. That is the text the pair was generated
 * from, the prompt the trainer and the conversational export take, and the page's history; the pair names its
 * parent in {@code pairs.parent_pair_id}, so the chain of pairs is the chain of turns. No table of its own: the
 * conversation is the prompt, and it ports to PostgreSQL with the rest of the schema.
 */
final class Conversations {
    private Conversations() {}

    /** prompts.source of a continued conversation. */
    static final String SOURCE = "continuation";

    /** The pair, its prompt, and the annotator's live vote on it (if any), read in one statement. */
    static ContinuationStart start(Connection c, String pairId, String annotator) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT v.choice, p.a_text, p.b_text, r.id, r.source, r.text, r.messages_json, r.created_at
                FROM pairs p JOIN prompts r ON r.id = p.prompt_id
                  LEFT JOIN preferences v ON v.pair_id = p.pair_id AND v.annotator = ? AND v.retracted_at IS NULL
                WHERE p.pair_id = ?""")) {
            ps.setString(1, annotator);
            ps.setString(2, pairId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return new ContinuationStart(ContinuationStart.Outcome.UNKNOWN_PAIR, null, null, null);
                }
                String choice = rs.getString(1);
                if (choice == null) {
                    return new ContinuationStart(ContinuationStart.Outcome.NOT_VOTED, null, null, null);
                }
                Choice voted = Choice.fromWire(choice);
                PromptRecord prompt = new PromptRecord(rs.getLong(4), rs.getString(5), rs.getString(6),
                        rs.getString(7), rs.getLong(8));
                return switch (voted) {
                    case A -> new ContinuationStart(ContinuationStart.Outcome.OK, prompt, rs.getString(2), voted);
                    case B -> new ContinuationStart(ContinuationStart.Outcome.OK, prompt, rs.getString(3), voted);
                    case TIE, BOTH_BAD -> new ContinuationStart(ContinuationStart.Outcome.NO_PREFERENCE, prompt, null,
                            voted);
                };
            }
        }
    }

    /**
     * Stores the conversation as a prompt and the pair with its parent, and leases the pair to the annotator who
     * continued, in one transaction; false (nothing stored) when their vote on the parent is no longer the one the
     * conversation was built from (withdrawn or changed while the pair was generated). The pair's promptId is
     * replaced by the new prompt's.
     */
    static Work<Boolean> add(Continuation c, PairRecord pair, int votesWanted, long leaseMillis) {
        return tx -> {
            PreparedStatement vote = tx.prepare(
                    "SELECT choice FROM preferences WHERE pair_id = ? AND annotator = ? AND retracted_at IS NULL");
            vote.setString(1, c.parentPairId());
            vote.setString(2, c.annotator());
            try (ResultSet rs = vote.executeQuery()) {
                if (!rs.next() || !rs.getString(1).equals(c.choice().wire())) {
                    return false;
                }
            }
            long now = System.currentTimeMillis();
            long promptId = Writes.addPrompt(SOURCE, c.promptText(), c.messagesJson(), now).run(tx);
            Writes.addPair(new PairRecord(pair.pairId(), promptId, c.promptText(), pair.promptIds(), pair.aText(),
                    pair.aTokenIds(), pair.aLogprobs(), pair.aFinish(), pair.bText(), pair.bTokenIds(),
                    pair.bLogprobs(), pair.bFinish(), pair.aIsFirstSample(), pair.policyVersion(),
                    pair.settingsJson(), now), now, votesWanted).run(tx);
            PreparedStatement parent = tx.prepare("UPDATE pairs SET parent_pair_id = ? WHERE pair_id = ?");
            parent.setString(1, c.parentPairId());
            parent.setString(2, pair.pairId());
            parent.executeUpdate();
            if (!Assignments.lease(pair.pairId(), c.annotator(), leaseMillis).run(tx)) {
                throw new IllegalStateException("a new pair could not be leased to the person who continued it");
            }
            return true;
        };
    }
}
