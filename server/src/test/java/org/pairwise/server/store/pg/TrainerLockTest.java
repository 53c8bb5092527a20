package org.pairwise.server.store.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.pairwise.server.store.StoreLocation;
import org.pairwise.server.store.TrainerLock;

/**
 * The trainer lock on a real PostgreSQL server: one holder at a time; it dies with its holder's session, whether the
 * holder lets go, its connection is cut, or its process is killed with SIGKILL (then the next node takes it at once).
 */
class TrainerLockTest {
    static PostgresHarness pg;
    static StoreLocation.PostgresDatabase at;

    @BeforeAll
    static void start() throws Exception {
        PostgresHarness.assumeAvailable();
        pg = PostgresHarness.start();
        pg.createDatabase("locks");
        at = (StoreLocation.PostgresDatabase) StoreLocation.parse(pg.url("locks"), Path.of("."));
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void oneHolderAtATimeAndAReleaseLetsTheNextIn() throws Exception {
        try (TrainerLock first = TrainerLock.tryAcquire(at).orElseThrow()) {
            assertTrue(first.held());
            assertEquals(Optional.empty(), TrainerLock.tryAcquire(at), "a second trainer while the first lives");
        }
        try (TrainerLock second = TrainerLock.tryAcquire(at).orElseThrow()) {
            assertTrue(second.held());
        }
    }

    @Test
    void aHolderWhoseConnectionIsCutKnowsItLostTheLock() throws Exception {
        try (TrainerLock lock = TrainerLock.tryAcquire(at).orElseThrow()) {
            try (Connection admin = pg.connect("locks"); Statement st = admin.createStatement()) {
                st.execute("SELECT pg_terminate_backend(" + lock.backendPid() + ")");
            }
            assertFalse(lock.held(), "the session is gone, and the lock with it");
            try (TrainerLock next = TrainerLock.tryAcquire(at).orElseThrow()) {
                assertTrue(next.held());
            }
        }
    }

    @Test
    void aSigkilledHoldersLockIsFreeAtOnce() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(List.of(java.toString(), "-cp", System.getProperty("java.class.path"),
                TrainerLockHolder.class.getName(), pg.url("locks"))).redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8))) {
            assertEquals("HELD", out.readLine(), "the child took the lock");
            assertEquals(Optional.empty(), TrainerLock.tryAcquire(at), "held by the child process");
            child.destroyForcibly();  // SIGKILL: no unlock, no close; the socket closes with the process
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            long t0 = System.nanoTime();
            Optional<TrainerLock> next = Optional.empty();
            while (next.isEmpty() && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10)) {
                next = TrainerLock.tryAcquire(at);
                if (next.isEmpty()) {
                    Thread.sleep(20);
                }
            }
            double ms = (System.nanoTime() - t0) / 1e6;
            assertTrue(next.isPresent(), "the lock was not freed within 10 s of the holder's death");
            System.out.printf("trainer lock: free %.0f ms after its holder was killed%n", ms);
            next.get().close();
        } finally {
            child.destroyForcibly();
        }
    }
}
