package org.pairwise.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.PreferenceStore.VoteRequest;

/**
 * Sustained group commits with readers busy all the while (a dashboard polling the stats, the trainer reading its
 * backlog): the WAL file keeps going back to the start and stays within a small multiple of its limit, and it
 * shrinks to nothing once writes stop.
 * PASSIVE checkpoints alone let it grow without bound: the WAL restarts only when a write begins just as a checkpoint
 * caught up, which a steady stream never allows.
 */
class WalBoundTest {
    private static final long LIMIT = 2L << 20;
    private static final long RUN_NANOS = 12_000_000_000L;

    @TempDir
    Path dir;

    @Test
    void theWalStaysBoundedUnderSustainedWritesAndShrinksWhenIdle() throws Exception {
        Path file = dir.resolve("p.db");
        Path wal = dir.resolve("p.db-wal");
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicLong reads = new AtomicLong();
        long maxWal = 0;
        long votes = 0;
        List<Long> series = new ArrayList<>();
        try (var store = new SqlitePreferenceStore(file, 4096, new SqlitePreferenceStore.Limits(0, LIMIT))) {
            Fixtures.addPairs(store, 8);
            List<Thread> readers = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                readers.add(Thread.ofPlatform().daemon().start(() -> {
                    while (writing.get()) {
                        store.stats().join();
                        store.trainableVotesAfter(0, 64).join();
                        reads.incrementAndGet();
                    }
                }));
            }
            Semaphore inFlight = new Semaphore(256);
            String comment = "x".repeat(200);
            long end = System.nanoTime() + RUN_NANOS;
            long nextSample = 0;
            while (System.nanoTime() < end) {
                inFlight.acquire();
                store.recordVote(new VoteRequest("p" + votes % 8, votes % 2 == 0 ? Choice.A : Choice.B, null,
                        "k" + votes, comment)).whenComplete((v, e) -> inFlight.release());
                votes++;
                if (System.nanoTime() > nextSample) {
                    long size = size(wal);
                    maxWal = Math.max(maxWal, size);
                    series.add(size >> 10);
                    nextSample = System.nanoTime() + 500_000_000L;
                }
            }
            inFlight.acquire(256);
            writing.set(false);
            for (Thread t : readers) {
                t.join();
            }
            long atStop = size(wal);
            long idleDeadline = System.nanoTime() + 5_000_000_000L;
            while (size(wal) > 0 && System.nanoTime() < idleDeadline) {
                Thread.sleep(50);
            }
            long idle = size(wal);
            System.out.printf("WAL over %d s of writes (%d votes, %d stats reads; KiB every 0.5 s): %s; max %d KiB, "
                            + "at stop %d KiB, after idle %d KiB (limit %d KiB)%n", RUN_NANOS / 1_000_000_000L,
                    votes, reads.get(), series, maxWal >> 10, atStop >> 10, idle >> 10, LIMIT >> 10);
            assertTrue(votes > 10_000, "only " + votes + " votes: too little load to say anything");
            // Over the limit, the WAL goes on growing only while the checkpoint waits for the running reads.
            long drops = 0;
            for (int i = 1; i < series.size(); i++) {
                drops += series.get(i) < series.get(i - 1) ? 1 : 0;
            }
            assertTrue(drops >= 2, "the WAL never went back to the start: " + series);
            assertTrue(maxWal <= 4 * LIMIT, "the WAL reached " + (maxWal >> 10) + " KiB, limit " + (LIMIT >> 10));
            assertEquals(0, idle, "the WAL did not shrink when idle");
            assertEquals(votes, store.stats().get().votes());
        }
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (java.io.IOException e) {
            return 0;
        }
    }
}
