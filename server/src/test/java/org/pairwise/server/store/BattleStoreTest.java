package org.pairwise.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.io.StringWriter;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.pairwise.server.store.PreferenceStore.Aggregation;
import org.pairwise.server.store.PreferenceStore.BattleVote;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.PreferenceStore.Finalising;
import org.pairwise.server.store.PreferenceStore.VoteRequest;
import org.pairwise.server.store.PreferenceStore.VoteResult;

/**
 * Battle pairs on a real SQLite file: stored with kind 'battle' and both sides' versions, leased and voted like any
 * pair (overlap k, never twice to one person), evaluation data only: no training items unless train_on_battles, not
 * in the TRL export, in the battle export with both versions; the leaderboard's votes leave out withdrawn votes and
 * flagged annotators.
 */
@ParameterizedClass
@EnumSource(StoreKind.class)
class BattleStoreTest extends StoreContract {
    JdbcPreferenceStore store;
    long promptId;

    @BeforeEach
    void open() throws Exception {
        openAt(db);
    }

    private void openAt(StoreKind.StoreUnderTest at) throws Exception {
        db = at;
        store = db.open(10_000);
        promptId = store.addPrompt("test", "the prompt", null).join();
    }

    @AfterEach
    void close() throws Exception {
        store.close();
    }

    private void battle(String id, int n, int k, int aVersion, int bVersion) {
        store.addBattlePair(Fixtures.pair(id, promptId, n, Math.max(aVersion, bVersion)), k, aVersion, bVersion)
                .join();
    }

    private long vote(String pair, Choice c, String who) {
        VoteResult r = store.recordVote(new VoteRequest(pair, c, who, null, null)).join();
        return ((VoteResult.Created) r).vote().id();
    }

    private String scalar(String sql) throws Exception {
        try (var c = db.jdbc(); var st = c.createStatement(); var rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void aBattleIsStoredWithItsKindAndBothVersionsAndItsVotesCountOnlyLive() throws Exception {
        battle("b1", 1, 3, 4, 0);
        assertEquals("battle", scalar("SELECT kind FROM pairs WHERE pair_id = 'b1'"));
        assertEquals("4|0|4", scalar("SELECT a_policy_version || '|' || b_policy_version || '|' || policy_version"
                + " FROM pairs WHERE pair_id = 'b1'"));
        vote("b1", Choice.A, "ann");
        long withdrawn = vote("b1", Choice.B, "ben");
        vote("b1", Choice.TIE, "cy");
        assertEquals(PreferenceStore.UndoResult.Outcome.WITHDRAWN,
                store.undo(withdrawn, "ben", null, 60_000).join().outcome());
        List<BattleVote> votes = store.battleVotes(true).join();
        assertEquals(List.of(Choice.A, Choice.TIE), votes.stream().map(BattleVote::choice).toList());
        assertTrue(votes.stream().allMatch(v -> v.aPolicyVersion() == 4 && v.bPolicyVersion() == 0));

        store.setAnnotatorFlag("ann", true, "test", "admin").join();
        assertEquals(List.of("cy"), store.battleVotes(true).join().stream().map(BattleVote::annotator).toList(),
                "a flagged annotator's battle votes leave the leaderboard while flags exclude");
        assertEquals(2, store.battleVotes(false).join().size());
    }

    @Test
    void aBattleNeedsTwoDifferentVersions() {
        var e = assertThrows(CompletionException.class, () -> battle("b1", 1, 1, 2, 2));
        assertTrue(e.getCause() instanceof IllegalArgumentException, e.toString());
    }

    @Test
    void battlesAreLeasedToAtMostKPeopleAndNeverTwiceToOne() {
        battle("b1", 1, 2, 1, 0);
        assertTrue(store.lease("b1", "ann", 60_000).join());
        assertFalse(store.lease("b1", "ann", 60_000).join(), "nobody is handed the same battle twice");
        var next = store.leaseNext("ben", "battle", true, 60_000).join();
        assertEquals("b1", next.orElseThrow().pair().pairId());
        assertEquals("battle", next.get().kind());
        assertFalse(store.lease("b1", "cy", 60_000).join(), "k = 2: a third person is refused");
    }

    @Test
    void battleVotesBecomeTrainingItemsOnlyWithTrainOnBattles() throws Exception {
        battle("b1", 1, 1, 2, 0);
        battle("b2", 2, 3, 0, 2);
        store.addPair(Fixtures.pair("p1", promptId, 3, 2), 1).join();
        vote("b1", Choice.A, "ann");
        vote("b2", Choice.B, "ann");
        vote("b2", Choice.B, "ben");
        vote("b2", Choice.A, "cy");
        vote("p1", Choice.B, "ann");
        assertEquals(1, store.finalise(new Finalising(Aggregation.EACH, 0, true)).join());
        assertEquals(0, store.finalise(new Finalising(Aggregation.MAJORITY, 0, true)).join());
        assertEquals(List.of("p1"), itemPairs(), "without train_on_battles only the policy pair is trained");
        assertEquals(1, store.stats().join().untrainedAbVotes(), "battle votes do not wait for the trainer");
        assertEquals(null, scalar("SELECT aggregated_at FROM pairs WHERE pair_id = 'b2'"),
                "nor is a battle's label decided");

        // On a second store over a fresh file: train_on_battles makes items of the battles too (off-policy pairs).
        store.close();
        db.close();
        openAt(kind.fresh(dir.resolve("q")));
        battle("b1", 1, 1, 2, 0);
        vote("b1", Choice.A, "ann");
        assertEquals(1, store.finalise(new Finalising(Aggregation.EACH, 0, true, true)).join());
        battle("b2", 2, 3, 0, 2);
        vote("b2", Choice.B, "ann");
        vote("b2", Choice.B, "ben");
        vote("b2", Choice.A, "cy");
        assertEquals(1, store.finalise(new Finalising(Aggregation.MAJORITY, 0, true, true)).join());
        var items = store.trainingItemsAfter(0, 10).join();
        assertEquals(List.of("b1", "b2"), items.stream().map(i -> pairOf(i.id())).toList());
        assertEquals(202, items.get(1).pair().chosenIds()[0], "b2: side B (tokens 200 + n) won 2 to 1");
    }

    private List<String> itemPairs() throws Exception {
        try (var c = db.jdbc(); var st = c.createStatement();
             var rs = st.executeQuery("SELECT pair_id FROM training_items ORDER BY id")) {
            List<String> out = new java.util.ArrayList<>();
            while (rs.next()) {
                out.add(rs.getString(1));
            }
            return out;
        }
    }

    private String pairOf(long itemId) {
        try (var c = db.jdbc(); var st = c.createStatement();
             var rs = st.executeQuery("SELECT pair_id FROM training_items WHERE id = " + itemId)) {
            rs.next();
            return rs.getString(1);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void battlesAreExportedSeparatelyAndNeverInTheTrlExport() throws Exception {
        battle("b1", 1, 1, 3, 1);
        store.addPair(Fixtures.pair("p1", promptId, 2, 3), 1).join();
        vote("b1", Choice.B, "ann");
        vote("p1", Choice.A, "ann");
        StringWriter trl = new StringWriter();
        store.exportVotes("standard", trl);
        assertEquals(1, trl.toString().lines().count(), trl.toString());
        assertFalse(trl.toString().contains("answer a1"), "the battle is not in the TRL export");
        StringWriter battles = new StringWriter();
        store.exportBattles(battles);
        List<JsonObject> lines = battles.toString().lines().map(JsonObject::new).toList();
        assertEquals(1, lines.size(), battles.toString());
        JsonObject b = lines.getFirst();
        assertEquals("battle_vote", b.getString("type"));
        assertEquals("b1", b.getString("pair_id"));
        assertEquals("b", b.getString("choice"));
        assertEquals(3, b.getInteger("a_policy_version"));
        assertEquals(1, b.getInteger("b_policy_version"));
        assertEquals("answer a1", b.getString("a_text"));
        assertEquals("ann", b.getString("annotator"));
        assertTrue(Arrays.asList(b.fieldNames().toArray()).contains("served_policy_version"));
    }

    @Test
    void recentPairsAreTheNewestPolicyPairsOfThatVersion() throws Exception {
        store.addPair(Fixtures.pair("p1", promptId, 1, 2), 1).join();
        Thread.sleep(5);  // distinct creation times: newest first is by created_at
        store.addPair(Fixtures.pair("p2", promptId, 2, 1), 1).join();
        Thread.sleep(5);
        store.addPair(Fixtures.pair("p3", promptId, 3, 2), 1).join();
        battle("b1", 4, 1, 2, 0);
        assertEquals(List.of("p3", "p1"), store.recentPairs(2, 10).join().stream()
                .map(PreferenceStore.PairRecord::pairId).toList());
        assertEquals(1, store.recentPairs(2, 1).join().size());
    }
}
