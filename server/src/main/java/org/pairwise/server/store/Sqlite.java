package org.pairwise.server.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.sqlite.SQLiteConfig;

/** How this store opens the file: one read-write connection for the writer, read-only ones for everything else. */
final class Sqlite {
    private Sqlite() {}

    /**
     * Long enough to ride out another process (a sqlite3 shell, a backup) holding the lock for a moment; a batch that
     * still cannot get the lock fails its futures instead of waiting forever.
     */
    static final int BUSY_TIMEOUT_MS = 10_000;

    /** When the WAL restarts from the top, the writer cuts the file back to this, so a burst leaves no huge file. */
    static final long JOURNAL_SIZE_LIMIT = 64L << 20;

    /**
     * The group-commit writer's view of this file. {@code maxPageCount} caps the file at that many pages (SQLite's
     * {@code max_page_count}; 0: no cap): beyond it writes fail exactly as on a full disk.
     */
    record Writer(Path file, long maxPageCount) implements GroupCommitWriter.Database {
        @Override
        public Connection open() throws SQLException {
            return openWriter(file, maxPageCount);
        }

        @Override
        public Dialect dialect() {
            return Dialect.SQLITE;
        }
    }

    static Connection openWriter(Path file) throws SQLException {
        return openWriter(file, 0);
    }

    static Connection openWriter(Path file, long maxPageCount) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        // WAL: readers never block the writer nor it them. FULL: the WAL is fsynced at every commit, so a committed
        // (acknowledged) vote survives power loss, not only a process crash.
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
        config.enforceForeignKeys(true);
        config.setBusyTimeout(BUSY_TIMEOUT_MS);
        Connection c = config.createConnection(url(file));
        try (Statement st = c.createStatement()) {
            // Checkpoints run on WalCheckpointer's thread, not inside a vote batch's commit.
            st.execute("PRAGMA wal_autocheckpoint = 0");
            st.execute("PRAGMA journal_size_limit = " + JOURNAL_SIZE_LIMIT);
            if (maxPageCount > 0) {
                st.execute("PRAGMA max_page_count = " + maxPageCount);
            }
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /**
     * A read-only connection. When the disk is too full even for the shared-memory index a WAL reader needs (a
     * start after a clean stop, whose close removed the -shm and -wal files), and the WAL holds nothing, the
     * database file alone is the whole state: it is opened immutable, so reads still work; the reader pool trades
     * it for a normal connection as soon as one opens.
     */
    static ReadPool.Reader openReader(Path file) throws SQLException {
        try {
            return new ReadPool.Reader(openWalReader(file), false);
        } catch (SQLException e) {
            if (!isDiskFull(e) || walHoldsFrames(file)) {
                throw e;
            }
            String immutable = "jdbc:sqlite:" + file.toAbsolutePath().toUri() + "?immutable=1";
            return new ReadPool.Reader(readOnly(immutable), true);
        }
    }

    /** A normal read-only connection (it reads the WAL too), tried once: SQLite maps the WAL index at first use. */
    static Connection openWalReader(Path file) throws SQLException {
        Connection c = readOnly(url(file));
        try (Statement st = c.createStatement()) {
            st.executeQuery("SELECT count(*) FROM sqlite_schema").close();
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /** Out of space: SQLITE_FULL, or the shared-memory index could not grow. */
    static boolean isDiskFull(SQLException e) {
        return Dialect.SQLITE.isDiskFull(e);
    }

    private static boolean walHoldsFrames(Path file) {
        Path wal = file.resolveSibling(file.getFileName() + "-wal");
        try {
            return Files.exists(wal) && Files.size(wal) > 0;
        } catch (IOException e) {
            return true;  // cannot tell: do not risk reading a stale file
        }
    }

    private static Connection readOnly(String url) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setReadOnly(true);
        config.setBusyTimeout(BUSY_TIMEOUT_MS);
        return config.createConnection(url);
    }

    private static String url(Path file) {
        return "jdbc:sqlite:" + file.toAbsolutePath();
    }
}
