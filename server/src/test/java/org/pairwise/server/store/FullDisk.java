package org.pairwise.server.store;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Somewhere a preference store can run out of space on purpose, and get it back. Two kinds, so the same test body
 * runs with and without root: a real tmpfs of a few MiB filled to the last byte by a ballast file, and an ordinary
 * directory whose database is capped by SQLite's own max_page_count and filled to the cap by a ballast table.
 */
public abstract class FullDisk implements AutoCloseable {
    /** Where the data lives (the database file's folder). */
    public abstract Path dir();

    /** Store limits for a store on this disk (the page cap, for that kind). */
    public abstract SqlitePreferenceStore.Limits limits();

    /** Whether every file in {@link #dir} runs out of space (tmpfs), not only the database (page cap). */
    public abstract boolean capsFiles();

    /** Takes every byte (or page) left. */
    public abstract void fill() throws Exception;

    /** Gives the space back. */
    public abstract void free() throws Exception;

    public Path db() {
        return dir().resolve("pairwise.db");
    }

    public SqlitePreferenceStore open(int writeQueueCapacity) {
        return new SqlitePreferenceStore(db(), writeQueueCapacity, limits());
    }

    /** A tmpfs of {@code size} (e.g. "8m") mounted on {@code mountPoint}; the calling test is skipped without root. */
    public static FullDisk tmpfs(Path mountPoint, String size) throws Exception {
        Files.createDirectories(mountPoint);
        String out = run("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", mountPoint.toString());
        Assumptions.assumeTrue(out == null, "skipped: cannot mount a tmpfs here (needs root): " + out);
        return new FullDisk() {
            private final Path ballast = mountPoint.resolve("ballast");

            @Override
            public Path dir() {
                return mountPoint;
            }

            @Override
            public SqlitePreferenceStore.Limits limits() {
                return SqlitePreferenceStore.Limits.DEFAULT;
            }

            @Override
            public boolean capsFiles() {
                return true;
            }

            @Override
            public void fill() throws IOException {
                try (OutputStream o = Files.newOutputStream(ballast)) {
                    for (int chunk = 1 << 16; chunk > 0; chunk /= 4) {
                        byte[] b = new byte[chunk];
                        try {
                            while (true) {
                                o.write(b);
                                o.flush();
                            }
                        } catch (IOException full) {
                            // next, smaller chunks, down to single bytes
                        }
                    }
                } catch (IOException closeOnFullDisk) {
                    // what fitted is written
                }
            }

            @Override
            public void free() throws IOException {
                Files.deleteIfExists(ballast);
            }

            @Override
            public void close() throws Exception {
                run("umount", "-l", mountPoint.toString());
            }
        };
    }

    /** The database in {@code dir} capped at {@code maxPages} pages; filling it grows a ballast table to the cap. */
    public static FullDisk pageCap(Path dir, long maxPages) {
        return new FullDisk() {
            @Override
            public Path dir() {
                return dir;
            }

            @Override
            public SqlitePreferenceStore.Limits limits() {
                return new SqlitePreferenceStore.Limits(maxPages, SqlitePreferenceStore.Limits.DEFAULT.walBytes());
            }

            @Override
            public boolean capsFiles() {
                return false;
            }

            @Override
            public void fill() throws SQLException {
                // Another connection, without the cap, so it can grow the file to the cap and a little past it.
                try (Connection c = Fixtures.jdbc(db()); Statement st = c.createStatement()) {
                    st.execute("PRAGMA busy_timeout = 10000");
                    st.execute("CREATE TABLE IF NOT EXISTS ballast (b BLOB)");
                    // Pages freed earlier are reused first: full means at the cap with no free page left.
                    while (scalar(st, "PRAGMA page_count") < maxPages || scalar(st, "PRAGMA freelist_count") > 0) {
                        st.execute("INSERT INTO ballast SELECT zeroblob(3000) FROM (SELECT 1 UNION ALL SELECT 2"
                                + " UNION ALL SELECT 3 UNION ALL SELECT 4)");
                    }
                }
            }

            @Override
            public void free() throws SQLException {
                // The freed pages go to the file's free list, where the capped writer can reuse them.
                try (Connection c = Fixtures.jdbc(db()); Statement st = c.createStatement()) {
                    st.execute("PRAGMA busy_timeout = 10000");
                    st.execute("DELETE FROM ballast");
                }
            }

            @Override
            public void close() {}
        };
    }

    private static long scalar(Statement st, String q) throws SQLException {
        try (ResultSet rs = st.executeQuery(q)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Runs a command; returns null when it succeeded, else what it printed. */
    static String run(String... cmd) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            return e.getMessage();  // no such command here
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return "timed out";
        }
        return p.exitValue() == 0 ? null : "exit " + p.exitValue() + ": " + out;
    }
}
