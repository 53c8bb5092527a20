package org.pairwise.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.PreferenceStore.StoreUnavailableException;
import org.pairwise.server.store.PreferenceStore.VoteRequest;
import org.pairwise.server.store.PreferenceStore.VoteResult;

/**
 * A full disk fails exactly the writes of the transactions it hit, with a clear error; writes resume by themselves
 * once there is room; a store opened while the disk is still full serves reads and takes writes once there is room.
 * Every acknowledged vote is stored once, no refused vote is stored.
 */
class DiskFullTest {
    private static final String COMMENT = "c".repeat(2000);  // fills the disk sooner

    @TempDir
    Path dir;

    private final Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    private final Set<String> refused = ConcurrentHashMap.newKeySet();
    private int next;

    @Test
    void onARealFullFileSystem() throws Exception {
        try (FullDisk disk = FullDisk.tmpfs(dir.resolve("mnt"), "8m")) {
            fullDiskFailsOnlyItsWritesAndWritesResume(disk);
        }
    }

    @Test
    void atSqlitesPageCapWithoutRoot() throws Exception {
        try (FullDisk disk = FullDisk.pageCap(dir, 600)) {
            fullDiskFailsOnlyItsWritesAndWritesResume(disk);
        }
    }

    private void fullDiskFailsOnlyItsWritesAndWritesResume(FullDisk disk) throws Exception {
        var store = disk.open(1024);
        try {
            Fixtures.addPairs(store, 4);
            assertEquals(0, votes(store, 50), "votes while there is room");
            disk.fill();
            voteUntilRefused(store);
            disk.free();
            awaitWritesResume(store);
        } finally {
            store.close();
        }

        // A start while the disk is still full: the store opens, reads work, writes wait for room.
        disk.fill();
        store = disk.open(1024);
        try {
            assertEquals(acknowledged.size(), store.stats().get().votes(), "reads on a full disk");
            voteUntilRefused(store);
            assertEquals(acknowledged.size(), store.latestVotes(Integer.MAX_VALUE).get().size());
            disk.free();
            awaitWritesResume(store);
        } finally {
            store.close();
        }

        Map<String, Integer> stored = new HashMap<>();
        try (Connection c = Fixtures.jdbc(disk.db()); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT idempotency_key, COUNT(*) FROM preferences GROUP BY 1")) {
            while (rs.next()) {
                stored.put(rs.getString(1), rs.getInt(2));
            }
        }
        System.out.printf("full disk (%s): %d votes acknowledged, %d refused, %d stored%n", disk.dir(),
                acknowledged.size(), refused.size(), stored.size());
        assertEquals(acknowledged, stored.keySet(), "stored = acknowledged");
        assertTrue(stored.values().stream().allMatch(n -> n == 1), "each stored once");
        assertFalse(refused.isEmpty());
        refused.forEach(k -> assertFalse(stored.containsKey(k), "refused but stored: " + k));
    }

    /** Votes n times, 16 at once; returns how many were refused (every refusal must be a clean disk-full one). */
    private int votes(PreferenceStore store, int n) {
        List<CompletableFuture<Boolean>> pending = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String key = "k" + next++;
            pending.add(store.recordVote(new VoteRequest("p" + next % 4, Choice.A, null, key, COMMENT))
                    .handle((r, e) -> {
                        if (e == null) {
                            assertInstanceOf(VoteResult.Created.class, r);
                            acknowledged.add(key);
                            return true;
                        }
                        refused.add(key);
                        Throwable cause = e instanceof CompletionException ? e.getCause() : e;
                        StoreUnavailableException u = assertInstanceOf(StoreUnavailableException.class, cause);
                        assertTrue(u.diskFull(), u.getMessage());
                        assertTrue(u.getMessage().startsWith("the disk holding the preference store is full"),
                                u.getMessage());
                        return false;
                    }));
            if (pending.size() % 16 == 0) {
                pending.forEach(CompletableFuture::join);
            }
        }
        return (int) pending.stream().filter(f -> !f.join()).count();
    }

    private void voteUntilRefused(PreferenceStore store) {
        int before = refused.size();
        for (int round = 0; round < 200 && refused.size() == before; round++) {
            votes(store, 16);
        }
        assertTrue(refused.size() > before, "the full disk never refused a vote");
    }

    /** Without reopening anything, a vote is stored again within 10 s, and then 100 in a row are. */
    private void awaitWritesResume(PreferenceStore store) throws InterruptedException {
        long end = System.nanoTime() + 10_000_000_000L;
        while (votes(store, 1) > 0) {
            assertTrue(System.nanoTime() < end, "writes did not resume after the disk was freed");
            Thread.sleep(50);
        }
        assertEquals(0, votes(store, 100), "votes after the disk was freed");
    }
}
