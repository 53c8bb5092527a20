package org.pairwise.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.PreferenceStore.StoreBusyException;
import org.pairwise.server.store.PreferenceStore.VoteRequest;
import org.pairwise.server.store.PreferenceStore.VoteResult;

@ParameterizedClass
@EnumSource(StoreKind.class)
class GroupCommitTest extends StoreContract {

    private static VoteRequest vote(String pairId, String key) {
        return new VoteRequest(pairId, Choice.A, null, key, null);
    }

    @Test
    void aVoteIsAcknowledgedOnlyAfterItsTransactionCommits() throws Exception {
        try (var store = db.open(1024);
             Connection outsider = db.jdbc();
             PreparedStatement find = outsider.prepareStatement("SELECT COUNT(*) FROM preferences WHERE id = ?")) {
            Fixtures.addPairs(store, 4);
            AtomicInteger invisible = new AtomicInteger();
            List<CompletableFuture<?>> checks = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                // The callback runs the moment the future completes; another connection sees only committed rows.
                checks.add(store.recordVote(vote("p" + i % 4, "k" + i)).thenAccept(r -> {
                    long id = ((VoteResult.Created) r).vote().id();
                    synchronized (find) {
                        try {
                            find.setLong(1, id);
                            try (ResultSet rs = find.executeQuery()) {
                                rs.next();
                                if (rs.getLong(1) != 1) {
                                    invisible.incrementAndGet();
                                }
                            }
                        } catch (SQLException e) {
                            throw new CompletionException(e);
                        }
                    }
                }));
            }
            CompletableFuture.allOf(checks.toArray(CompletableFuture[]::new)).join();
            assertEquals(0, invisible.get(), "votes acknowledged before their commit");
        }
    }

    @Test
    void concurrentVotesShareTransactionsAndNoneIsLost() throws Exception {
        int threads = 8;
        int perThread = 250;
        try (var store = db.open(4096)) {
            List<String> pairs = Fixtures.addPairs(store, 50);
            long txBefore = store.transactionsCommitted();
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            CountDownLatch start = new CountDownLatch(1);
            long t0 = System.nanoTime();
            List<Future<List<CompletableFuture<VoteResult>>>> submitted = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                submitted.add(pool.submit(() -> {
                    start.await();
                    List<CompletableFuture<VoteResult>> mine = new ArrayList<>();
                    for (int i = 0; i < perThread; i++) {
                        mine.add(store.recordVote(vote(pairs.get(i % pairs.size()), thread + "-" + i)));
                    }
                    return mine;
                }));
            }
            start.countDown();
            Set<Long> ids = new HashSet<>();
            for (var f : submitted) {
                for (CompletableFuture<VoteResult> v : f.get()) {
                    ids.add(assertInstanceOf(VoteResult.Created.class, v.join()).vote().id());
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            pool.shutdown();
            int votes = threads * perThread;
            long transactions = store.transactionsCommitted() - txBefore;
            System.out.printf("group commit, open loop: %d votes in %d transactions (%.1f votes/transaction),"
                    + " %.0f votes/s%n", votes, transactions, (double) votes / transactions, votes / seconds);
            assertEquals(votes, ids.size());
            assertEquals(votes, db.count("SELECT COUNT(*) FROM preferences"));
            assertTrue(transactions <= votes / 4, "expected batching, got " + transactions + " transactions");
        }
    }

    @Test
    void waitingClientsAreBatchedToo() throws Exception {
        // Like people behind HTTP: each client sends its next vote only after the last one was acknowledged.
        int clients = 16;
        int perClient = 40;
        try (var store = db.open(64)) {
            List<String> pairs = Fixtures.addPairs(store, 20);
            long txBefore = store.transactionsCommitted();
            ExecutorService pool = Executors.newFixedThreadPool(clients);
            long t0 = System.nanoTime();
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int client = c;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < perClient; i++) {
                        store.recordVote(vote(pairs.get(i % pairs.size()), client + "/" + i)).join();
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            pool.shutdown();
            int votes = clients * perClient;
            long transactions = store.transactionsCommitted() - txBefore;
            System.out.printf("group commit, %d waiting clients: %d votes in %d transactions (%.1f votes/transaction),"
                    + " %.0f votes/s%n", clients, votes, transactions, (double) votes / transactions, votes / seconds);
            assertEquals(votes, db.count("SELECT COUNT(*) FROM preferences"));
            assertTrue(transactions < votes / 2, "expected batching, got " + transactions + " transactions");
        }
    }

    @Test
    void aFullQueueRejectsAtOnceAndStoresOnlyWhatItAccepted() throws Exception {
        int capacity = 8;
        try (var store = db.open(capacity)) {
            Fixtures.addPairs(store, 2);
            // Another process holding the write lock stalls the writer, as a slow disk would.
            AutoCloseable stall = db.stallWriter();
            List<CompletableFuture<VoteResult>> accepted = new ArrayList<>();
            List<String> acceptedKeys = new ArrayList<>();
            List<String> rejectedKeys = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                CompletableFuture<VoteResult> f = store.recordVote(vote("p0", "k" + i));
                if (f.isCompletedExceptionally()) {
                    CompletionException e = assertThrows(CompletionException.class, f::join);
                    assertInstanceOf(StoreBusyException.class, e.getCause());
                    rejectedKeys.add("k" + i);
                } else {
                    accepted.add(f);
                    acceptedKeys.add("k" + i);
                }
            }
            Thread.sleep(200);
            assertTrue(accepted.stream().noneMatch(CompletableFuture::isDone), "acknowledged while the lock was held");
            stall.close();
            accepted.forEach(f -> assertInstanceOf(VoteResult.Created.class, f.join()));

            // The writer holds at most one batch, the queue at most `capacity`.
            assertTrue(acceptedKeys.size() >= capacity && acceptedKeys.size() <= 2 * capacity, acceptedKeys::toString);
            assertEquals(100 - acceptedKeys.size(), rejectedKeys.size());
            assertEquals(Set.copyOf(acceptedKeys), keysIn());
            // Room again once the writer caught up.
            assertInstanceOf(VoteResult.Created.class, store.recordVote(vote("p1", "after")).join());
        }
    }

    @Test
    void oneFailingWriteFailsAloneAndItsBatchStillCommits() throws Exception {
        try (var store = db.open(64)) {
            long promptId = store.addPrompt("test", "q", null).join();
            store.addPair(Fixtures.pair("p0", promptId, 0, 0)).join();
            long txBefore = store.transactionsCommitted();
            AutoCloseable stall = db.stallWriter();
            var first = store.recordVote(vote("p0", "first"));
            Thread.sleep(150); // the writer takes `first` alone and waits for the lock; the rest queue behind it
            var goodPair = store.addPair(Fixtures.pair("p1", promptId, 1, 0));
            var badPair = store.addPair(Fixtures.pair("p2", promptId + 99, 2, 0));
            var second = store.recordVote(vote("p0", "second"));
            var third = store.recordVote(vote("p1", "third")); // votes on the pair added earlier in this batch
            stall.close();

            assertInstanceOf(VoteResult.Created.class, first.join());
            goodPair.join();
            CompletionException e = assertThrows(CompletionException.class, badPair::join);
            assertInstanceOf(IllegalArgumentException.class, e.getCause());
            assertInstanceOf(VoteResult.Created.class, second.join());
            assertInstanceOf(VoteResult.Created.class, third.join());
            assertEquals(2, store.transactionsCommitted() - txBefore, "expected [first] then the other four together");
            assertEquals(Set.of("first", "second", "third"), keysIn());
            assertEquals(0, db.count("SELECT COUNT(*) FROM pairs WHERE pair_id = 'p2'"));
        }
    }

    @Test
    void closeCommitsEverythingQueuedThenRefusesWrites() throws Exception {
        List<CompletableFuture<VoteResult>> pending = new ArrayList<>();
        var store = db.open(4096);
        Fixtures.addPairs(store, 3);
        for (int i = 0; i < 1000; i++) {
            pending.add(store.recordVote(vote("p" + i % 3, "c" + i)));
        }
        store.close();
        pending.forEach(f -> assertInstanceOf(VoteResult.Created.class, f.getNow(null)));
        assertEquals(1000, db.count("SELECT COUNT(*) FROM preferences"));
        if (kind == StoreKind.SQLITE) {
            // A clean close leaves one self-contained file: the WAL was checkpointed into it and removed.
            assertFalse(java.nio.file.Files.exists(dir.resolve("p.db-wal")));
        }
        CompletionException e = assertThrows(CompletionException.class,
                () -> store.recordVote(vote("p0", "late")).join());
        assertInstanceOf(IllegalStateException.class, e.getCause());
    }

    private Set<String> keysIn() throws SQLException {
        Set<String> keys = new HashSet<>();
        try (Connection c = db.jdbc(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT idempotency_key FROM preferences")) {
            while (rs.next()) {
                keys.add(rs.getString(1));
            }
        }
        return keys;
    }
}
