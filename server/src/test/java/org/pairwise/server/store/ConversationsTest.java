package org.pairwise.server.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.StringWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.pairwise.server.store.PreferenceStore.Aggregation;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.PreferenceStore.Continuation;
import org.pairwise.server.store.PreferenceStore.ContinuationStart;
import org.pairwise.server.store.PreferenceStore.ContinuationStart.Outcome;
import org.pairwise.server.store.PreferenceStore.Finalising;
import org.pairwise.server.store.PreferenceStore.PairRecord;
import org.pairwise.server.store.PreferenceStore.TrainingItem;
import org.pairwise.server.store.PreferenceStore.UndoResult;
import org.pairwise.server.store.PreferenceStore.VoteRequest;
import org.pairwise.server.store.PreferenceStore.VoteResult;

/**
 * Multi-turn conversations on a real SQLite file: where a continuation may start, the stored parent chain, the
 * history rebuilt from it turn by turn, a vote changed while the next turn was generated, the overlap of a continued
 * pair, the trainer's prompt tokens and the conversational export of a third turn.
 */
@ParameterizedClass
@EnumSource(StoreKind.class)
class ConversationsTest extends StoreContract {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long LEASE = 600_000;

    JdbcPreferenceStore store;

    /** One text prompt and its pair p0, wanted once. */
    @BeforeEach
    void open() throws Exception {
        store = db.open(10_000);
        long prompt = store.addPrompt("test", "prompt 0", null).join();
        store.addPair(Fixtures.pair("p0", prompt, 0, 0), 1).join();
    }

    @AfterEach
    void close() throws Exception {
        store.close();
    }

    private long vote(String pair, Choice c, String who) {
        VoteResult r = store.recordVote(new VoteRequest(pair, c, who, null, null)).join();
        return ((VoteResult.Created) r).vote().id();
    }

    /** What the generator does: the parent's messages, the preferred side, the next message; here by hand. */
    private boolean continueFrom(String parent, String child, String who, String messagesJson, int n, int k) {
        ContinuationStart start = store.continuationStart(parent, who).join();
        assertEquals(Outcome.OK, start.outcome());
        PairRecord pair = Fixtures.pair(child, -1, n, 0);
        PairRecord rendered = new PairRecord(pair.pairId(), -1, "", new int[] {1, 50, 51, 52, n}, pair.aText(),
                pair.aTokenIds(), pair.aLogprobs(), pair.aFinish(), pair.bText(), pair.bTokenIds(), pair.bLogprobs(),
                pair.bFinish(), pair.aIsFirstSample(), pair.policyVersion(), pair.settingsJson(), 0);
        return store.addContinuation(new Continuation(parent, who, start.choice(), "display of " + child,
                messagesJson), rendered, k, LEASE).join();
    }

    static final String TURN_2 = """
            [{"role":"user","content":"prompt 0"},{"role":"assistant","content":"answer a0"},\
            {"role":"user","content":"And then?"}]""";
    static final String TURN_3 = """
            [{"role":"user","content":"prompt 0"},{"role":"assistant","content":"answer a0"},\
            {"role":"user","content":"And then?"},{"role":"assistant","content":"answer b1"},\
            {"role":"user","content":"Why?"}]""";

    @Test
    void aContinuationStartsOnlyFromTheCallersOwnAOrBVote() {
        assertEquals(Outcome.UNKNOWN_PAIR, store.continuationStart("nope", "ann").join().outcome());
        assertEquals(Outcome.NOT_VOTED, store.continuationStart("p0", "ann").join().outcome());
        long tie = vote("p0", Choice.TIE, "ann");
        ContinuationStart onTie = store.continuationStart("p0", "ann").join();
        assertEquals(Outcome.NO_PREFERENCE, onTie.outcome());
        assertEquals(Choice.TIE, onTie.choice());
        assertEquals(UndoResult.Outcome.CHANGED, store.undo(tie, "ann", Choice.B, 60_000).join().outcome());
        ContinuationStart onB = store.continuationStart("p0", "ann").join();
        assertEquals(Outcome.OK, onB.outcome());
        assertEquals("answer b0", onB.chosenText(), "the side the vote prefers now");
        assertEquals("prompt 0", onB.prompt().text());
        assertNull(onB.prompt().messagesJson());
        assertEquals(Outcome.NOT_VOTED, store.continuationStart("p0", "bob").join().outcome(), "ann's vote only");
        assertEquals(UndoResult.Outcome.WITHDRAWN, store.undo(tie, "ann", null, 60_000).join().outcome());
        assertEquals(Outcome.NOT_VOTED, store.continuationStart("p0", "ann").join().outcome(), "withdrawn");
    }

    /** p0 voted A, continued as c1; c1 voted B, continued as c2: TURN_3. */
    private void threeTurns() {
        vote("p0", Choice.A, "ann");
        assertTrue(continueFrom("p0", "c1", "ann", TURN_2, 1, 1));
        vote("c1", Choice.B, "ann");
        assertTrue(continueFrom("c1", "c2", "ann", TURN_3, 2, 1));
    }

    @Test
    void theParentChainRebuildsTheConversationTurnByTurn() throws Exception {
        threeTurns();

        // Walked by plain SQL from the last pair: each child's conversation is its parent's, then the response
        // its voter preferred, then one user message.
        List<String> chain = new ArrayList<>();
        try (Connection c = db.jdbc()) {
            String at = "c2";
            while (at != null) {
                chain.add(at);
                Row row = row(c, at);
                if (row.parent != null) {
                    Row parent = row(c, row.parent);
                    ArrayNode expected = parent.messages != null ? (ArrayNode) JSON.readTree(parent.messages)
                            : JSON.createArrayNode().add(JSON.createObjectNode().put("role", "user")
                                    .put("content", parent.promptText));
                    expected.add(JSON.createObjectNode().put("role", "assistant").put("content",
                            chosenBy(c, row.parent, "ann")));
                    ArrayNode got = (ArrayNode) JSON.readTree(row.messages);
                    assertEquals(expected.size() + 1, got.size());
                    for (int i = 0; i < expected.size(); i++) {
                        assertEquals(expected.get(i), got.get(i), at + " message " + i);
                    }
                    assertEquals("user", got.get(got.size() - 1).get("role").asText());
                    assertEquals(Conversations.SOURCE, row.source);
                }
                at = row.parent;
            }
        }
        assertEquals(List.of("c2", "c1", "p0"), chain);
        try (Connection c = db.jdbc()) {
            assertEquals(JSON.readTree(TURN_3), JSON.readTree(row(c, "c2").messages));
            assertEquals("display of c2", row(c, "c2").promptText);
        }
    }

    @Test
    void aVoteChangedWhileTheTurnWasGeneratedStoresNothing() throws Exception {
        long v = vote("p0", Choice.A, "ann");
        ContinuationStart start = store.continuationStart("p0", "ann").join();
        store.undo(v, "ann", Choice.B, 60_000).join();
        long prompts = db.count("SELECT COUNT(*) FROM prompts");
        assertFalse(store.addContinuation(new Continuation("p0", "ann", start.choice(), "x", TURN_2),
                Fixtures.pair("c1", -1, 1, 0), 1, LEASE).join());
        assertEquals(prompts, db.count("SELECT COUNT(*) FROM prompts"));
        assertEquals(0, db.count("SELECT COUNT(*) FROM pairs WHERE pair_id = 'c1'"));
        assertEquals(0, db.count("SELECT COUNT(*) FROM assignments WHERE pair_id = 'c1'"));
    }

    @Test
    void theContinuerHoldsTheFirstSlotAndOthersTakeTheRestOfK() throws Exception {
        vote("p0", Choice.A, "ann");
        assertTrue(continueFrom("p0", "c1", "ann", TURN_2, 1, 2));
        assertEquals(1, db.count("SELECT assigned FROM pairs WHERE pair_id = 'c1'"));
        assertTrue(store.leaseNext("ann", "policy", true, LEASE).join().isEmpty(), "ann holds it already");
        var bob = store.leaseNext("bob", "policy", true, LEASE).join();
        assertEquals("c1", bob.orElseThrow().pair().pairId(), "a started pair short of its k votes");
        assertEquals(TURN_2, bob.get().prompt().messagesJson(), "bob sees the whole conversation too");
        assertTrue(store.leaseNext("cid", "policy", true, LEASE).join().isEmpty(), "k = 2 slots taken");
    }

    @Test
    void theTrainerTakesTheConversationsTokensAndTheExportTheWholeHistory() throws Exception {
        threeTurns();
        vote("c2", Choice.A, "ann");
        store.finalise(new Finalising(Aggregation.EACH, 0, true)).join();
        List<TrainingItem> items = store.trainingItemsAfter(0, 10).join();
        assertEquals(3, items.size());
        assertArrayEquals(Fixtures.PROMPT_IDS, items.get(0).pair().promptIds());
        assertArrayEquals(new int[] {1, 50, 51, 52, 1}, items.get(1).pair().promptIds(), "the rendered history");
        assertArrayEquals(new int[] {1, 50, 51, 52, 2}, items.get(2).pair().promptIds());
        assertArrayEquals(new int[] {100 + 2, 7}, items.get(2).pair().chosenIds());

        StringWriter out = new StringWriter();
        store.exportVotes("conversational", out);
        String[] lines = out.toString().split("\n");
        assertEquals(3, lines.length);
        assertEquals(JSON.readTree("""
                {"prompt":[{"role":"user","content":"prompt 0"},{"role":"assistant","content":"answer a0"},
                           {"role":"user","content":"And then?"},{"role":"assistant","content":"answer b1"},
                           {"role":"user","content":"Why?"}],
                 "chosen":[{"role":"assistant","content":"answer a2"}],
                 "rejected":[{"role":"assistant","content":"answer b2"}]}"""), JSON.readTree(lines[2]));
        StringWriter standard = new StringWriter();
        store.exportVotes("standard", standard);
        assertEquals(JSON.readTree("""
                {"prompt":"display of c2","chosen":"answer a2","rejected":"answer b2"}"""),
                JSON.readTree(standard.toString().split("\n")[2]));
        // The raw export names each vote's parent pair: the conversation is p0 -> c1 -> c2.
        StringWriter raw = new StringWriter();
        store.exportRaw(raw);
        List<String> parents = raw.toString().lines().map(l -> {
            try {
                var v = JSON.readTree(l);
                return v.get("pair_id").asText() + "<" + v.get("parent_pair_id").asText("none");
            } catch (java.io.IOException e) {
                throw new AssertionError(e);
            }
        }).toList();
        assertEquals(List.of("p0<none", "c1<p0", "c2<c1"), parents);
    }

    private record Row(String parent, String promptText, String messages, String source) {}

    private static Row row(Connection c, String pairId) throws Exception {
        try (PreparedStatement ps = c.prepareStatement("SELECT p.parent_pair_id, r.text, r.messages_json, r.source"
                + " FROM pairs p JOIN prompts r ON r.id = p.prompt_id WHERE p.pair_id = ?")) {
            ps.setString(1, pairId);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next(), pairId);
                return new Row(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4));
            }
        }
    }

    private static String chosenBy(Connection c, String pairId, String who) throws Exception {
        try (PreparedStatement ps = c.prepareStatement("SELECT CASE v.choice WHEN 'a' THEN p.a_text ELSE p.b_text"
                + " END FROM preferences v JOIN pairs p ON p.pair_id = v.pair_id WHERE v.pair_id = ?"
                + " AND v.annotator = ? AND v.retracted_at IS NULL AND v.choice IN ('a', 'b')")) {
            ps.setString(1, pairId);
            ps.setString(2, who);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next(), pairId);
                return rs.getString(1);
            }
        }
    }
}
