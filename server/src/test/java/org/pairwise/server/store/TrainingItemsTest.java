package org.pairwise.server.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.pairwise.server.store.PreferenceStore.Aggregation;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.PreferenceStore.Finalising;
import org.pairwise.server.store.PreferenceStore.GoldPair;
import org.pairwise.server.store.PreferenceStore.SkipReason;
import org.pairwise.server.store.PreferenceStore.TrainingItem;
import org.pairwise.server.store.PreferenceStore.UndoResult;
import org.pairwise.server.store.PreferenceStore.VoteRequest;
import org.pairwise.server.store.PreferenceStore.VoteResult;
import org.pairwise.trainer.data.PreferencePair;

/**
 * The trainer's queue on a real SQLite file: one label per pair under majority and soft, per-vote items under each,
 * the undo window, gold pairs, harmful skips and flagged annotators; decided once, trained once.
 */
@ParameterizedClass
@EnumSource(StoreKind.class)
class TrainingItemsTest extends StoreContract {
    private static final Finalising EACH = new Finalising(Aggregation.EACH, 0, true);
    private static final Finalising MAJORITY = new Finalising(Aggregation.MAJORITY, 0, true);
    private static final Finalising SOFT = new Finalising(Aggregation.SOFT, 0, true);

    JdbcPreferenceStore store;
    long promptId;

    @BeforeEach
    void open() throws Exception {
        store = db.open(10_000);
        promptId = store.addPrompt("test", "the prompt", null).join();
    }

    @AfterEach
    void close() throws Exception {
        store.close();
    }

    private void pair(String id, int n, int k) {
        store.addPair(Fixtures.pair(id, promptId, n, 0), k).join();
    }

    private long vote(String pair, Choice c, String who) {
        VoteResult r = store.recordVote(new VoteRequest(pair, c, who, null, null)).join();
        return ((VoteResult.Created) r).vote().id();
    }

    private List<TrainingItem> items() {
        return store.trainingItemsAfter(0, 1000).join();
    }

    @Test
    void aVoteCommittedAfterAHigherIdIsItemisedOnALaterPass() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(kind == StoreKind.POSTGRES, "several writers: PostgreSQL only");
        pair("late", 1, 1);
        pair("early", 2, 1);
        // Another node's transaction draws the lower id and commits after this store's vote with the higher one.
        try (var other = db.jdbc()) {
            other.setAutoCommit(false);
            try (var ps = other.prepareStatement("INSERT INTO preferences (pair_id, choice, annotator, created_at) "
                    + "VALUES ('late', 'a', 'other-node', ?)")) {
                ps.setLong(1, System.currentTimeMillis());
                ps.executeUpdate();
            }
            long higher = vote("early", Choice.B, "here");
            assertEquals(1, store.finalise(EACH).join(), "the committed vote");
            other.commit();
            assertEquals(1, store.finalise(EACH).join(), "the watermark waited for the lower id");
            List<TrainingItem> all = items();
            assertEquals(2, all.size());
            assertEquals(higher, all.getFirst().pair().id(), "the higher id, committed first, was itemised first");
            assertTrue(all.get(1).pair().id() < higher, "then the lower one");
        }
    }

    @Test
    void threePeopleDisagreeingGiveOneMajorityLabelNotThreeContradictoryTerms() {
        pair("p1", 1, 3);
        vote("p1", Choice.A, "ann");
        vote("p1", Choice.B, "ben");
        assertEquals(0, store.finalise(MAJORITY).join(), "two of three votes: not final");
        vote("p1", Choice.A, "cy");
        assertEquals(1, store.finalise(MAJORITY).join());
        List<TrainingItem> items = items();
        assertEquals(1, items.size());
        PreferencePair p = items.getFirst().pair();
        assertArrayEquals(new int[] {101, 7}, p.chosenIds(), "side a won 2 to 1");
        assertArrayEquals(new int[] {201, 8, 9}, p.rejectedIds());
        assertTrue(Double.isNaN(p.labelSmoothing()), "majority: the configuration's label_smoothing applies");
        assertEquals(items.getFirst().id(), p.id(), "an aggregated item is named by its own id");
        assertEquals("a", scalar("SELECT aggregate_outcome FROM pairs WHERE pair_id = 'p1'"));
        assertEquals(0, store.finalise(MAJORITY).join(), "decided once");
        assertEquals(1, items().size());
    }

    @Test
    void softAggregationSetsLabelSmoothingToTheMinorityShare() {
        pair("p1", 1, 3);
        pair("p2", 2, 3);
        for (String who : List.of("ann", "ben", "cy")) {
            vote("p1", who.equals("ann") ? Choice.A : Choice.B, who);  // 1 A, 2 B
            vote("p2", Choice.A, who);                                 // unanimous
        }
        assertEquals(2, store.finalise(SOFT).join());
        List<TrainingItem> items = items();
        PreferencePair split = items.get(0).pair(), unanimous = items.get(1).pair();
        assertArrayEquals(new int[] {201, 8, 9}, split.chosenIds(), "b won 2 to 1");
        assertEquals(1.0 / 3, split.labelSmoothing(), 1e-12);
        assertEquals(0.0, unanimous.labelSmoothing(), 0.0);
    }

    @Test
    void eachModeGivesOneItemPerVoteWithTheVoteIdsAsBefore() {
        pair("p1", 1, 3);
        long v1 = vote("p1", Choice.A, "ann");
        long v2 = vote("p1", Choice.B, "ben");
        vote("p1", Choice.TIE, "cy");
        assertEquals(2, store.finalise(EACH).join());
        assertEquals(List.of(v1, v2), items().stream().map(i -> i.pair().id()).toList());
        assertEquals(0, store.finalise(EACH).join());
    }

    @Test
    void tiesAndATiePluralityGiveNoItemAndAreDecidedOnce() {
        pair("ab", 1, 2);
        vote("ab", Choice.A, "ann");
        vote("ab", Choice.B, "ben");
        pair("meh", 2, 3);
        vote("meh", Choice.A, "ann");
        vote("meh", Choice.TIE, "ben");
        vote("meh", Choice.BOTH_BAD, "cy");
        assertEquals(0, store.finalise(MAJORITY).join());
        assertEquals(List.of(), items());
        assertEquals("tie", scalar("SELECT aggregate_outcome FROM pairs WHERE pair_id = 'ab'"));
        assertEquals("no_preference", scalar("SELECT aggregate_outcome FROM pairs WHERE pair_id = 'meh'"));
    }

    @Test
    void aVoteIsFinalOnlyAfterItsUndoWindowAndAWithdrawnVoteIsNeverTrained() throws Exception {
        pair("p1", 1, 1);
        pair("p2", 2, 1);
        Finalising window = new Finalising(Aggregation.EACH, 300, true);
        long kept = vote("p1", Choice.A, "ann");
        long undone = vote("p2", Choice.B, "ann");
        assertEquals(UndoResult.Outcome.WITHDRAWN, store.undo(undone, "ann", null, 300).join().outcome());
        assertEquals(0, store.finalise(window).join(), "inside the window nothing is final");
        Thread.sleep(350);
        assertEquals(UndoResult.Outcome.WINDOW_CLOSED, store.undo(kept, "ann", Choice.B, 300).join().outcome());
        assertEquals(1, store.finalise(window).join());
        List<TrainingItem> items = items();
        assertEquals(List.of(kept), items.stream().map(i -> i.pair().id()).toList());
        store.markItemsTrained(items.stream().map(TrainingItem::id).toList(), 3).join();
        // The consumed-votes record: the kept vote trained at version 3, the withdrawn one never.
        assertEquals("3", scalar("SELECT trained_at_version FROM preferences WHERE id = " + kept));
        assertNull(scalar("SELECT trained_at_version FROM preferences WHERE id = " + undone));
        assertEquals(1, db.count("SELECT COUNT(*) FROM preferences WHERE retracted_at IS NOT NULL"));
    }

    @Test
    void aChangeInsideTheWindowIsWhatGetsTrainedAndOnlyTheVoterMayMakeIt() throws Exception {
        pair("p1", 1, 1);
        long v = vote("p1", Choice.A, "ann");
        assertEquals(UndoResult.Outcome.NOT_FOUND, store.undo(v, "ben", Choice.B, 60_000).join().outcome());
        UndoResult r = store.undo(v, "ann", Choice.B, 60_000).join();
        assertEquals(UndoResult.Outcome.CHANGED, r.outcome());
        assertEquals(Choice.B, r.vote().choice());
        assertEquals(1, store.finalise(EACH).join());
        assertArrayEquals(new int[] {201, 8, 9}, items().getFirst().pair().chosenIds());
        assertTrue(db.count("SELECT changed_at FROM preferences WHERE id = " + v) > 0);
    }

    @Test
    void aWithdrawnVoteCanBeReplaced() {
        pair("p1", 1, 1);
        long v = vote("p1", Choice.A, "ann");
        store.undo(v, "ann", null, 60_000).join();
        long again = vote("p1", Choice.B, "ann");
        assertTrue(again > v);
        assertEquals(UndoResult.Outcome.ALREADY_WITHDRAWN, store.undo(v, "ann", null, 60_000).join().outcome());
    }

    @Test
    void goldPairsNeverReachTheTrainerInAnyMode() {
        String gold = store.addGoldPair(new GoldPair("2+2?", null, "4", "5"), false).join();
        assertEquals("b", scalar("SELECT gold_choice FROM pairs WHERE pair_id = '" + gold + "'"));
        assertEquals("4", scalar("SELECT b_text FROM pairs WHERE pair_id = '" + gold + "'"));
        for (String who : List.of("ann", "ben", "cy")) {
            assertTrue(store.lease(gold, who, 60_000).join());
            vote(gold, Choice.B, who);
        }
        for (Finalising f : List.of(EACH, MAJORITY, SOFT)) {
            assertEquals(0, store.finalise(f).join(), f.toString());
        }
        assertEquals(List.of(), items());
    }

    @Test
    void aHarmfulSkipFlagsThePairWhichIsThenNeitherServedNorTrained() {
        pair("p1", 1, 2);
        vote("p1", Choice.A, "ann");
        assertEquals(PreferenceStore.SkipResult.ALREADY_VOTED,
                store.skip("p1", "ann", SkipReason.CANT_JUDGE, null).join());
        assertTrue(store.lease("p1", "ben", 60_000).join());
        assertEquals(PreferenceStore.SkipResult.SKIPPED,
                store.skip("p1", "ben", SkipReason.HARMFUL, "violent").join());
        assertEquals(PreferenceStore.SkipResult.DUPLICATE,
                store.skip("p1", "ben", SkipReason.HARMFUL, "violent").join());
        assertEquals("1", scalar("SELECT flagged_harmful FROM pairs WHERE pair_id = 'p1'"));
        assertEquals("skipped", scalar("SELECT state FROM assignments WHERE annotator = 'ben'"));
        assertEquals(0, store.finalise(EACH).join());
        assertTrue(store.leaseNext("cy", "policy", false, 60_000).join().isEmpty());
    }

    @Test
    void flaggedAnnotatorsVotesAreLeftOutAndCountAgainAfterUnflagging() {
        pair("p1", 1, 1);
        pair("p2", 2, 3);
        store.setAnnotatorFlag("mallory", true, "clicks at random", "admin").join();
        long each = vote("p1", Choice.B, "mallory");
        assertEquals(0, store.finalise(EACH).join());
        store.setAnnotatorFlag("mallory", false, null, "admin").join();
        assertEquals(1, store.finalise(EACH).join(), "un-flagged: the held vote is trainable now");
        assertEquals(List.of(each), items().stream().map(i -> i.pair().id()).toList());

        // Majority: a flagged vote does not count; the pair is decided by the others.
        store.setAnnotatorFlag("mallory", true, null, "admin").join();
        vote("p2", Choice.B, "mallory");
        vote("p2", Choice.A, "ann");
        vote("p2", Choice.B, "ben");
        assertEquals(0, store.finalise(MAJORITY).join(), "1 A vs 1 B once mallory is left out: a tie");
        assertEquals("tie", scalar("SELECT aggregate_outcome FROM pairs WHERE pair_id = 'p2'"));
        assertEquals(1, store.annotatorFlags().join().size());
    }

    @Test
    void nothingIsTrainedTwiceAcrossARestart() {
        pair("p1", 1, 1);
        pair("p2", 2, 1);
        vote("p1", Choice.A, "ann");
        store.finalise(EACH).join();
        long position = items().getLast().id();
        store.markItemsTrained(List.of(position), 1).join();
        store.close();
        store = db.open(100);
        assertEquals(0, store.finalise(EACH).join(), "the restarted finaliser finds the vote itemised already");
        vote("p2", Choice.B, "ann");
        assertEquals(1, store.finalise(EACH).join());
        List<TrainingItem> after = store.trainingItemsAfter(position, 100).join();
        assertEquals(1, after.size());
        assertEquals("p2", scalar("SELECT pair_id FROM training_items WHERE id = " + after.getFirst().id()));
    }

    @Test
    void votesFromBeforeTheQueueBecomeItsFirstItemsUnderTheirOwnIds() throws Exception {
        // An old SQLite file's upgrade (PostgreSQL databases were born at the current schema).
        Assumptions.assumeTrue(kind == StoreKind.SQLITE, "a migration of an old SQLite file");
        store.close();
        Path old = ((StoreLocation.SqliteFile) db.location()).file();
        java.nio.file.Files.delete(old);
        try (var c = Sqlite.openWriter(old); var st = c.createStatement()) {
            Migrations.migrate(c, Migrations.ALL.subList(0, 1));
            st.executeUpdate("INSERT INTO prompts (source, text, created_at) VALUES ('t', 'x', 1)");
            st.executeUpdate("INSERT INTO pairs (pair_id, prompt_id, prompt_text, a_text, b_text, a_is_first_sample,"
                    + " policy_version, created_at) VALUES ('old', 1, 'x', 'a', 'b', 1, 0, 1)");
            st.executeUpdate("INSERT INTO preferences (pair_id, choice, annotator, created_at, trained_at_version)"
                    + " VALUES ('old', 'a', 'ann', 2, 2), ('old', 'tie', 'ben', 3, NULL), ('old', 'b', 'cy', 4, NULL)");
        }
        store = db.open(16);
        assertEquals("1,3", scalar("SELECT GROUP_CONCAT(id) FROM (SELECT id FROM training_items ORDER BY id)"));
        assertEquals("1,3", scalar("SELECT GROUP_CONCAT(vote_id) FROM (SELECT vote_id FROM training_items ORDER BY id)"));
        assertEquals("2", scalar("SELECT trained_at_version FROM training_items WHERE id = 1"));
        assertEquals("per_vote", scalar("SELECT aggregate_outcome FROM pairs WHERE pair_id = 'old'"));
    }

    private String scalar(String sql) {
        try (var c = db.jdbc(); var st = c.createStatement(); var rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
