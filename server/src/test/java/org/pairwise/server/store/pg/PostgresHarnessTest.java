package org.pairwise.server.store.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The throwaway PostgreSQL server: real initdb, pg_ctl, TCP logins with a password, cleanup in every way out. */
class PostgresHarnessTest {

    /** Where the binaries are looked for; with none anywhere, binaries() is empty and assumeAvailable() skips. */
    @Test
    void findsBinariesInDebiansLayoutNewestFirstThenOnPath(@TempDir Path tmp) throws Exception {
        Path debian = Files.createDirectories(tmp.resolve("usr-lib-postgresql"));
        for (String version : List.of("9.6", "13", "16")) {
            fakeInstallation(Files.createDirectories(debian.resolve(version).resolve("bin")));
        }
        Files.delete(debian.resolve("16").resolve("bin").resolve("postgres")); // incomplete: skipped
        assertEquals(debian.resolve("13").resolve("bin"), PostgresHarness.binaries(debian, "").orElseThrow());

        Path elsewhere = fakeInstallation(Files.createDirectories(tmp.resolve("opt-pg").resolve("bin")));
        Path onPath = Files.createDirectories(tmp.resolve("local-bin"));
        Files.createSymbolicLink(onPath.resolve("initdb"), elsewhere.resolve("initdb"));
        Path none = tmp.resolve("nothing-here");
        assertEquals(elsewhere.toRealPath(), PostgresHarness.binaries(none, "/nonexistent:" + onPath).orElseThrow());
        assertTrue(PostgresHarness.binaries(none, "/nonexistent").isEmpty());
    }

    private static Path fakeInstallation(Path bin) throws Exception {
        for (String name : List.of("initdb", "pg_ctl", "postgres")) {
            Path p = Files.writeString(bin.resolve(name), "#!/bin/sh\n");
            p.toFile().setExecutable(true);
        }
        return bin;
    }

    @Test
    void startsConnectsStoresAndLeavesNothingBehind() throws Exception {
        PostgresHarness.assumeAvailable();
        Path dir;
        try (PostgresHarness pg = PostgresHarness.start()) {
            dir = pg.directory();
            assertTrue(Files.isDirectory(dir.resolve("data")), "the cluster lives in the temporary directory");
            assertTrue(Files.exists(dir.resolve("socket").resolve(".s.PGSQL." + pg.port())), "unix socket inside it");
            try (Connection c = pg.connect(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE votes (id BIGSERIAL PRIMARY KEY, choice TEXT NOT NULL)");
                try (PreparedStatement ins = c.prepareStatement("INSERT INTO votes (choice) VALUES (?)")) {
                    for (String choice : List.of("a", "b", "tie")) {
                        ins.setString(1, choice);
                        ins.executeUpdate();
                    }
                }
                try (ResultSet rs = s.executeQuery("SELECT string_agg(choice, ',' ORDER BY id), count(*) FROM votes")) {
                    assertTrue(rs.next());
                    assertEquals("a,b,tie", rs.getString(1));
                    assertEquals(3, rs.getInt(2));
                }
                try (ResultSet rs = s.executeQuery("SELECT inet_server_addr()::text, inet_server_port()")) {
                    assertTrue(rs.next());
                    assertEquals("127.0.0.1/32", rs.getString(1));
                    assertEquals(pg.port(), rs.getInt(2));
                }
            }
            String url = pg.createDatabase("campaign");
            try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password());
                 ResultSet rs = c.createStatement().executeQuery("SELECT current_database()")) {
                assertTrue(rs.next());
                assertEquals("campaign", rs.getString(1));
            }
            assertTrue(pg.url("campaign").startsWith("postgresql://pairwise:" + pg.password() + "@127.0.0.1:"));
        }
        assertFalse(Files.exists(dir), dir + " must be deleted on close");
    }

    @Test
    void aWrongPasswordIsRefused() throws Exception {
        PostgresHarness.assumeAvailable();
        try (PostgresHarness pg = PostgresHarness.start()) {
            SQLException e = assertThrows(SQLException.class,
                    () -> DriverManager.getConnection(pg.jdbcUrl(), pg.user(), "not-" + pg.password()).close());
            assertTrue(e.getMessage().contains("password authentication failed"), e.getMessage());
        }
    }

    @Test
    void twoServersRunSideBySideOnTheirOwnPorts() throws Exception {
        PostgresHarness.assumeAvailable();
        CompletableFuture<PostgresHarness> first = CompletableFuture.supplyAsync(PostgresHarnessTest::startUnchecked);
        CompletableFuture<PostgresHarness> second = CompletableFuture.supplyAsync(PostgresHarnessTest::startUnchecked);
        List<Path> dirs = new ArrayList<>();
        try (PostgresHarness a = first.get(3, TimeUnit.MINUTES); PostgresHarness b = second.get(3, TimeUnit.MINUTES)) {
            dirs.add(a.directory());
            dirs.add(b.directory());
            assertNotEquals(a.port(), b.port());
            assertNotEquals(a.directory(), b.directory());
            for (PostgresHarness pg : List.of(a, b)) {
                try (Connection c = pg.connect(); Statement s = c.createStatement()) {
                    s.execute("CREATE TABLE owner (port INT)");
                    s.execute("INSERT INTO owner VALUES (" + pg.port() + ")");
                }
            }
            for (PostgresHarness pg : List.of(a, b)) {
                try (Connection c = pg.connect();
                     ResultSet rs = c.createStatement().executeQuery("SELECT port FROM owner")) {
                    assertTrue(rs.next());
                    assertEquals(pg.port(), rs.getInt(1), "each server holds only its own row");
                    assertFalse(rs.next());
                }
            }
        }
        for (Path d : dirs) {
            assertFalse(Files.exists(d), d + " must be deleted");
        }
    }

    /** A JVM that exits without closing its harness: the shutdown hook stops the server and deletes the directory. */
    @Test
    void aJvmThatExitsWithoutClosingCleansUpThroughItsShutdownHook() throws Exception {
        PostgresHarness.assumeAvailable();
        Process probe = probe();
        String[] ready = awaitReady(probe);
        assertTrue(probe.waitFor(2, TimeUnit.MINUTES), "the probe JVM exits");
        assertGone(ready);
    }

    /** A JVM killed with SIGKILL runs no hook: the next start (or reapOrphans) stops its server and deletes it. */
    @Test
    void theServerOfAKilledJvmIsReapedByTheNextStart() throws Exception {
        PostgresHarness.assumeAvailable();
        Process probe = probe("wait");
        String[] ready = awaitReady(probe);
        probe.destroyForcibly();
        assertTrue(probe.waitFor(1, TimeUnit.MINUTES));
        long postmaster = Long.parseLong(ready[2]);
        assertTrue(ProcessHandle.of(postmaster).map(ProcessHandle::isAlive).orElse(false),
                "kill -9 of the JVM leaves its PostgreSQL running: the orphan the reaper is for");
        PostgresHarness.reapOrphans();
        assertGone(ready);
    }

    private static void assertGone(String[] ready) throws InterruptedException {
        Path dir = Path.of(ready[1]);
        long postmaster = Long.parseLong(ready[2]);
        ProcessHandle.of(postmaster)
                .ifPresent(p -> p.onExit().orTimeout(30, TimeUnit.SECONDS).exceptionally(t -> p).join());
        assertFalse(ProcessHandle.of(postmaster).map(ProcessHandle::isAlive).orElse(false),
                "postmaster " + postmaster + " stopped");
        assertFalse(Files.exists(dir), dir + " deleted");
    }

    private static Process probe(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-cp",
                System.getProperty("java.class.path"), HarnessExitProbe.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    /** The probe's READY line: {"READY", directory, postmaster pid}. */
    private static String[] awaitReady(Process probe) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(probe.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder seen = new StringBuilder();
        String line;
        while ((line = out.readLine()) != null) {
            if (line.startsWith("READY ")) {
                // keep draining so the probe never blocks on a full pipe
                Thread.ofVirtual().start(() -> {
                    try {
                        out.lines().forEach(l -> { });
                    } catch (java.io.UncheckedIOException closed) {
                        // the probe was killed: its output ends here
                    }
                });
                return line.split(" ");
            }
            seen.append(line).append('\n');
        }
        throw new AssertionError("the probe JVM ended before starting PostgreSQL:\n" + seen);
    }

    private static PostgresHarness startUnchecked() {
        try {
            return PostgresHarness.start();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
