package org.pairwise.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.PreferenceStore.VoteRequest;
import org.pairwise.server.store.PreferenceStore.VoteResult;

@ParameterizedClass
@EnumSource(StoreKind.class)
class VoteDedupeTest extends StoreContract {
    JdbcPreferenceStore store;

    @BeforeEach
    void open() throws Exception {
        store = db.open(4096);
        Fixtures.addPairs(store, 3);
    }

    @AfterEach
    void close() throws Exception {
        store.close();
    }

    private VoteResult vote(String pairId, Choice choice, String annotator, String key) {
        return store.recordVote(new VoteRequest(pairId, choice, annotator, key, null)).join();
    }

    @Test
    void concurrentIdenticalSubmissionsStoreExactlyOneVote() throws Exception {
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<List<CompletableFuture<VoteResult>>>> submitted = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            submitted.add(pool.submit(() -> {
                start.await();
                List<CompletableFuture<VoteResult>> mine = new ArrayList<>();
                for (int i = 0; i < 50; i++) {
                    mine.add(store.recordVote(new VoteRequest("p1", Choice.B, "ann", "same-key", "retry")));
                }
                return mine;
            }));
        }
        start.countDown();
        List<VoteResult> results = new ArrayList<>();
        for (var f : submitted) {
            f.get().forEach(v -> results.add(v.join()));
        }
        pool.shutdown();
        List<VoteResult.Created> created = results.stream()
                .filter(VoteResult.Created.class::isInstance).map(VoteResult.Created.class::cast).toList();
        assertEquals(1, created.size());
        long id = created.getFirst().vote().id();
        results.stream().filter(r -> r != created.getFirst()).forEach(r ->
                assertEquals(id, assertInstanceOf(VoteResult.Duplicate.class, r).original().id()));
        assertEquals(1, db.count("SELECT COUNT(*) FROM preferences"));
    }

    @Test
    void sameAnnotatorAndPairIsADuplicateOrAConflict() throws Exception {
        var first = assertInstanceOf(VoteResult.Created.class, vote("p0", Choice.A, "alice", null)).vote();
        var again = assertInstanceOf(VoteResult.Duplicate.class, vote("p0", Choice.A, "alice", "other-key"));
        assertEquals(first, again.original());
        var changed = assertInstanceOf(VoteResult.Conflict.class, vote("p0", Choice.TIE, "alice", null));
        assertEquals(first, changed.original());
        assertEquals(1, db.count("SELECT COUNT(*) FROM preferences"));
    }

    @Test
    void theSameKeySayingSomethingElseIsAConflict() {
        var first = assertInstanceOf(VoteResult.Created.class, vote("p0", Choice.A, null, "k1")).vote();
        assertEquals(first, assertInstanceOf(VoteResult.Duplicate.class, vote("p0", Choice.A, null, "k1")).original());
        assertEquals(first, assertInstanceOf(VoteResult.Conflict.class, vote("p0", Choice.B, null, "k1")).original());
        assertEquals(first, assertInstanceOf(VoteResult.Conflict.class, vote("p2", Choice.A, null, "k1")).original());
    }

    @Test
    void differentPeopleAndAnonymousVotesAreAllKept() throws Exception {
        assertInstanceOf(VoteResult.Created.class, vote("p0", Choice.A, "alice", null));
        assertInstanceOf(VoteResult.Created.class, vote("p0", Choice.B, "bob", null));
        assertInstanceOf(VoteResult.Created.class, vote("p1", Choice.B, "alice", null));
        assertInstanceOf(VoteResult.Created.class, vote("p0", Choice.A, null, null));
        assertInstanceOf(VoteResult.Created.class, vote("p0", Choice.A, null, null));
        assertEquals(5, db.count("SELECT COUNT(*) FROM preferences"));
    }

    @Test
    void aVoteForAnUnknownPairIsNotStored() throws Exception {
        assertEquals(new VoteResult.UnknownPair("nope"), vote("nope", Choice.A, "alice", "k"));
        assertEquals(0, db.count("SELECT COUNT(*) FROM preferences"));
        // The key was not used up by the failed vote.
        assertInstanceOf(VoteResult.Created.class, vote("p0", Choice.A, "alice", "k"));
    }

    @Test
    void aVoteWithoutPairOrChoiceIsRefused() {
        CompletionException e = assertThrows(CompletionException.class,
                () -> store.recordVote(new VoteRequest("p0", null, null, null, null)).join());
        assertInstanceOf(IllegalArgumentException.class, e.getCause());
    }

    @Test
    void theStoredVoteKeepsEveryField() {
        var created = assertInstanceOf(VoteResult.Created.class,
                store.recordVote(new VoteRequest("p2", Choice.BOTH_BAD, "carol", "key-9", "both rambled")).join())
                .vote();
        var latest = store.latestVotes(1).join().getFirst();
        assertEquals(created, latest);
        assertEquals(Choice.BOTH_BAD, latest.choice());
        assertEquals("both rambled", latest.comment());
    }
}
