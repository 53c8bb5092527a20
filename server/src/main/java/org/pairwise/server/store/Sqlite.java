package org.pairwise.server.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import org.sqlite.SQLiteConfig;

/** How this store opens the file: one read-write connection for the writer, read-only ones for everything else. */
final class Sqlite {
    private Sqlite() {}

    /**
     * Long enough to ride out another process (a sqlite3 shell, a backup) holding the lock for a moment; a batch that
     * still cannot get the lock fails its futures instead of waiting forever.
     */
    static final int BUSY_TIMEOUT_MS = 10_000;

    static Connection openWriter(Path file) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        // WAL: readers never block the writer nor it them. FULL: the WAL is fsynced at every commit, so a committed
        // (acknowledged) vote survives power loss, not only a process crash.
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
        config.enforceForeignKeys(true);
        config.setBusyTimeout(BUSY_TIMEOUT_MS);
        Connection c = config.createConnection(url(file));
        try (java.sql.Statement st = c.createStatement()) {
            // Checkpoints run on WalCheckpointer's thread, not inside a vote batch's commit.
            st.execute("PRAGMA wal_autocheckpoint = 0");
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return c;
    }

    static Connection openReader(Path file) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setReadOnly(true);
        config.setBusyTimeout(BUSY_TIMEOUT_MS);
        return config.createConnection(url(file));
    }

    private static String url(Path file) {
        return "jdbc:sqlite:" + file.toAbsolutePath();
    }
}
