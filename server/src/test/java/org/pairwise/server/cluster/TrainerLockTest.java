package org.pairwise.server.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.pairwise.server.store.StoreLocation.PostgresDatabase;
import org.pairwise.server.store.pg.SharedPostgres;

/**
 * The trainer lock on a real PostgreSQL server: one holder at a time, taking it again is harmless, closing lets it
 * go, and a holder killed with SIGKILL (a separate JVM, {@link LockHolder}) loses it at once, so the next try of
 * another node takes it.
 */
class TrainerLockTest {
    static PostgresDatabase db;

    @BeforeAll
    static void database() throws Exception {
        db = SharedPostgres.freshDatabase("locks");
    }

    @Test
    void oneHolderAtATimeAndClosingLetsItGo() throws Exception {
        try (TrainerLock a = TrainerLock.open(db); TrainerLock b = TrainerLock.open(db)) {
            assertFalse(a.stillHeld());
            assertEquals(0, a.holderPid());
            assertTrue(a.tryAcquire());
            assertTrue(a.tryAcquire(), "the holder taking it again still holds it");
            assertTrue(a.stillHeld());
            assertFalse(b.tryAcquire());
            assertFalse(b.stillHeld());
            assertTrue(b.holderPid() > 0);
            assertEquals(a.holderPid(), b.holderPid());
            a.close();
            // The server ends the closed session a moment after the client has gone.
            awaitAcquired(b, "after the holder closed its connection");
            assertTrue(b.stillHeld());
        }
        // Taken twice above by one session: session locks stack, and a second acquire must not leave it held after
        // the connection is gone.
        try (TrainerLock c = TrainerLock.open(db)) {
            assertTrue(c.tryAcquire());
        }
    }

    @Test
    void aHolderWhoseConnectionIsCutLosesTheLockAndCanWriteNothing() throws Exception {
        try (TrainerLock holder = TrainerLock.open(db); TrainerLock next = TrainerLock.open(db)) {
            awaitAcquired(holder, "for the cut-connection test");
            int pid = holder.holderPid();
            try (var c = SharedPostgres.server().connect(db.database()); var st = c.createStatement()) {
                st.execute("SELECT pg_terminate_backend(" + pid + ")");  // as a lost network ends it
            }
            org.junit.jupiter.api.Assertions.assertThrows(java.sql.SQLException.class,
                    () -> holder.fenced(c -> c.createStatement().execute("SELECT 1")), "a cut holder writes nothing");
            awaitAcquired(next, "after the holder's connection was cut");
        }
    }

    @Test
    void aHolderKilledWithSigkillLosesTheLockAtOnce() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process holder = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
                LockHolder.class.getName(), db.jdbcUrl(), db.user(), db.password() == null ? "" : db.password()))
                .redirectErrorStream(true).start();
        try (TrainerLock mine = TrainerLock.open(db)) {
            BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(),
                    StandardCharsets.UTF_8));
            String line = out.readLine();
            assertEquals("HELD", line, "the holder process did not take the lock");
            assertFalse(mine.tryAcquire(), "another process holds it");
            holder.destroyForcibly();  // SIGKILL
            assertTrue(holder.waitFor(30, TimeUnit.SECONDS));
            System.out.printf("[trainer lock] taken %.0f ms after the holder's SIGKILL%n",
                    awaitAcquired(mine, "after its holder's SIGKILL") / 1e6);
        } finally {
            holder.destroyForcibly();
        }
    }

    /** Tries every 20 ms for at most 10 s; the nanoseconds it took. */
    static long awaitAcquired(TrainerLock lock, String when) throws Exception {
        long t0 = System.nanoTime();
        while (!lock.tryAcquire()) {
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10), "the lock was not free within 10 s "
                    + when);
            Thread.sleep(20);
        }
        return System.nanoTime() - t0;
    }

    /** A separate JVM that takes the lock, says HELD, and waits to be killed. */
    public static final class LockHolder {
        public static void main(String[] args) throws Exception {
            var url = java.net.URI.create(args[0].substring("jdbc:".length()));
            String database = url.getPath().substring(1);
            try (TrainerLock lock = TrainerLock.open(new PostgresDatabase(url.getHost(), url.getPort(), database,
                    args[1], args[2].isEmpty() ? null : args[2], null))) {
                if (!lock.tryAcquire()) {
                    System.out.println("BUSY");
                    return;
                }
                System.out.println("HELD");
                System.out.flush();
                Thread.sleep(600_000);
            }
        }
    }
}
