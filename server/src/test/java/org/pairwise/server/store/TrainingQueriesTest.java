package org.pairwise.server.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.PreferenceStore.PairRecord;
import org.pairwise.server.store.PreferenceStore.PolicyVersion;
import org.pairwise.server.store.PreferenceStore.TrainerCheckpoint;
import org.pairwise.server.store.PreferenceStore.VoteRecord;
import org.pairwise.server.store.PreferenceStore.VoteRequest;
import org.pairwise.server.store.PreferenceStore.VoteResult;
import org.pairwise.trainer.data.PreferencePair;

@ParameterizedClass
@EnumSource(StoreKind.class)
class TrainingQueriesTest extends StoreContract {
    JdbcPreferenceStore store;

    @BeforeEach
    void open() throws Exception {
        store = db.open(1024);
        Fixtures.addPairs(store, 3); // p0, p1, p2 at policy versions 0, 1, 2
    }

    @AfterEach
    void close() throws Exception {
        store.close();
    }

    private long vote(String pairId, Choice choice, String annotator) {
        VoteResult r = store.recordVote(new VoteRequest(pairId, choice, annotator, null, null)).join();
        return assertInstanceOf(VoteResult.Created.class, r).vote().id();
    }

    @Test
    void aPairComesBackExactlyAsStored() throws Exception {
        PairRecord stored = Fixtures.pair("p1", 1, 1, 1);
        PairRecord back = store.pair("p1").join().orElseThrow();
        assertEquals(stored.promptText(), back.promptText());
        assertArrayEquals(stored.promptIds(), back.promptIds());
        assertArrayEquals(stored.aTokenIds(), back.aTokenIds());
        assertArrayEquals(stored.aLogprobs(), back.aLogprobs());
        assertArrayEquals(stored.bTokenIds(), back.bTokenIds());
        assertArrayEquals(stored.bLogprobs(), back.bLogprobs());
        assertEquals(stored.aFinish(), back.aFinish());
        assertEquals(stored.bFinish(), back.bFinish());
        assertEquals(stored.aIsFirstSample(), back.aIsFirstSample());
        assertEquals(1, back.policyVersion());
        assertEquals(stored.settingsJson(), back.settingsJson());
        assertTrue(back.createdAtMillis() > 0, "0 means now");
        assertEquals(Optional.empty(), store.pair("missing").join());
    }

    @Test
    void tokenArraysAreLittleEndianBlobsThatTheDatabaseCanMeasure() throws Exception {
        long promptId = store.addPrompt("test", "q", null).join();
        store.addPair(new PairRecord("edge", promptId, "q", new int[0], "a", new int[] {1, 256}, new float[] {1f},
                null, "b", null, null, null, true, 0, null, 0)).join();
        // BLOB (SQLite) and BYTEA (PostgreSQL) hold the same bytes; only the name of the hex function differs.
        String hex = kind == StoreKind.SQLITE ? "hex(%s)" : "upper(encode(%s, 'hex'))";
        try (Connection c = db.jdbc(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT " + hex.formatted("a_token_ids") + ", "
                     + hex.formatted("a_logprobs") + ", length(prompt_ids), CASE WHEN b_token_ids IS NULL THEN 1"
                     + " ELSE 0 END FROM pairs WHERE pair_id = 'edge'")) {
            rs.next();
            assertEquals("0100000000010000", rs.getString(1));
            assertEquals("0000803F", rs.getString(2)); // 1.0f
            assertEquals(0, rs.getInt(3));
            assertEquals(1, rs.getInt(4));
        }
        PairRecord back = store.pair("edge").join().orElseThrow();
        assertArrayEquals(new int[0], back.promptIds()); // empty stays empty,
        assertNull(back.bTokenIds());                    // null stays null
    }

    @Test
    void aPairForAnUnknownPromptOrAnExistingIdIsRefused() {
        for (PairRecord bad : List.of(Fixtures.pair("p9", 999, 9, 0), Fixtures.pair("p0", 1, 0, 0))) {
            CompletionException e = assertThrows(CompletionException.class, () -> store.addPair(bad).join());
            assertInstanceOf(IllegalArgumentException.class, e.getCause());
        }
    }

    @Test
    void trainableVotesAreAbVotesInIdOrderWithChosenAndRejectedBySide() {
        long v1 = vote("p0", Choice.A, null);
        vote("p1", Choice.TIE, null);
        long v3 = vote("p1", Choice.B, null);
        vote("p2", Choice.BOTH_BAD, null);
        long v5 = vote("p2", Choice.A, null);

        List<PreferencePair> all = store.trainableVotesAfter(0, 100).join();
        assertEquals(List.of(v1, v3, v5), all.stream().map(PreferencePair::id).toList());
        PreferencePair a = all.get(0);
        assertArrayEquals(Fixtures.PROMPT_IDS, a.promptIds());
        assertArrayEquals(new int[] {100, 7}, a.chosenIds());      // p0 side a
        assertArrayEquals(new int[] {200, 8, 9}, a.rejectedIds()); // p0 side b
        PreferencePair b = all.get(1);
        assertEquals(Choice.B, choiceOf(b.id()));
        assertArrayEquals(new int[] {201, 8, 9}, b.chosenIds());
        assertArrayEquals(new int[] {101, 7}, b.rejectedIds());
        assertEquals(1, b.policyVersion());
        assertEquals(2, all.get(2).policyVersion());

        assertEquals(List.of(v3), store.trainableVotesAfter(v1, 1).join().stream().map(PreferencePair::id).toList());
        assertEquals(List.of(), store.trainableVotesAfter(v5, 10).join());
    }

    // The trainer's pair carries no choice (chosen is the preferred side); the stored vote has it.
    private Choice choiceOf(long voteId) {
        return store.latestVotes(100).join().stream().filter(v -> v.id() == voteId).findFirst().orElseThrow()
                .choice();
    }

    @Test
    void markTrainedRecordsTheFirstVersionThatConsumedAVote() {
        long v1 = vote("p0", Choice.A, null);
        long v2 = vote("p1", Choice.B, null);
        long v3 = vote("p2", Choice.A, null);
        store.markTrained(List.of(v1, v2), 4).join();
        store.markTrained(List.of(v2, v3), 5).join();
        Map<Long, Integer> trainedAt = new java.util.HashMap<>();
        for (VoteRecord v : store.latestVotes(10).join()) {
            trainedAt.put(v.id(), v.trainedAtVersion());
        }
        assertEquals(Map.of(v1, 4, v2, 4, v3, 5), trainedAt);
        assertEquals(0, store.stats().join().untrainedAbVotes());
    }

    @Test
    void latestVotesAreNewestFirst() {
        long v1 = vote("p0", Choice.A, null);
        long v2 = vote("p1", Choice.B, null);
        long v3 = vote("p2", Choice.TIE, null);
        assertEquals(List.of(v3, v2), store.latestVotes(2).join().stream().map(VoteRecord::id).toList());
        assertTrue(v1 < v2);
    }

    @Test
    void statsCountEverything() {
        long first = vote("p0", Choice.A, "alice");
        vote("p1", Choice.B, "alice");
        vote("p1", Choice.TIE, "bob");
        vote("p2", Choice.BOTH_BAD, null);
        vote("p2", Choice.A, null);
        store.markTrained(List.of(first), 1).join();

        var stats = store.stats().join();
        assertEquals(1, stats.prompts());
        assertEquals(3, stats.pairs());
        assertEquals(5, stats.votes());
        assertEquals(Map.of("a", 2L, "b", 1L, "tie", 1L, "both_bad", 1L), stats.byChoice());
        assertEquals(Map.of("alice", 2L, "bob", 1L), stats.byAnnotator());
        assertEquals(Map.of(0, 1L, 1, 2L, 2, 2L), stats.byPolicyVersion());
        assertEquals(2, stats.untrainedAbVotes()); // b on p1 and a on p2; the first a is trained
    }

    @Test
    void theLatestCheckpointIsTheOneRecordedLast() {
        assertEquals(Optional.empty(), store.latestCheckpoint().join());
        store.recordCheckpoint(new TrainerCheckpoint(100, 2, 40, "ckpt/step-100", 0)).join();
        store.recordCheckpoint(new TrainerCheckpoint(200, 4, 90, "ckpt/step-200", 0)).join();
        TrainerCheckpoint latest = store.latestCheckpoint().join().orElseThrow();
        assertEquals(200, latest.step());
        assertEquals(4, latest.policyVersion());
        assertEquals(90, latest.lastVoteId());
        assertEquals("ckpt/step-200", latest.path());
        assertTrue(latest.createdAtMillis() > 0);
    }

    @Test
    void publishedVersionsAreRecordedOnceEachInVersionOrder() {
        assertEquals(List.of(), store.policyVersions().join());
        store.recordPolicyVersion(new PolicyVersion(2, 20, "policy/v2", 5_000)).join();
        store.recordPolicyVersion(new PolicyVersion(1, 10, "policy/v1", 0)).join();
        store.recordPolicyVersion(new PolicyVersion(2, 99, "policy/again", 6_000)).join();  // the first record stays
        List<PolicyVersion> all = store.policyVersions().join();
        assertEquals(List.of(1, 2), all.stream().map(PolicyVersion::version).toList());
        assertEquals(new PolicyVersion(2, 20, "policy/v2", 5_000), all.get(1));
        assertTrue(all.getFirst().publishedAtMillis() > 0, "0 means now");
    }

    @Test
    void promptsKeepTheirConversationAndRejectMalformedOnes() {
        String messages = "[{\"role\":\"system\",\"content\":\"be brief\"},{\"role\":\"user\",\"content\":\"hi\"}]";
        long id = store.addPrompt("upload", "hi", messages).join();
        var p = store.prompts(10).join().stream().filter(r -> r.id() == id).findFirst().orElseThrow();
        assertEquals(messages, p.messagesJson());
        assertEquals("upload", p.source());
        for (String bad : List.of("{\"role\":\"user\"}", "[{\"role\":\"user\"}]", "[1]", "[", "[] []")) {
            CompletionException e = assertThrows(CompletionException.class,
                    () -> store.addPrompt("upload", "x", bad).join(), bad);
            assertInstanceOf(IllegalArgumentException.class, e.getCause());
        }
    }
}
