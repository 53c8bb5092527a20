package org.pairwise.server.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Moves WAL frames into the database file off the writer's path. SQLite's automatic checkpoint runs inside the commit
 * that crosses its threshold, so one vote batch in a thousand would wait for the copy and its fsync; with the writer's
 * auto-checkpoint off, this thread runs PASSIVE checkpoints (which never wait for, nor block, the writer) on its own
 * connection every few hundred milliseconds, and the WAL still restarts from the top once a checkpoint caught up.
 */
final class WalCheckpointer implements AutoCloseable {
    static final long PERIOD_MS = 250;

    private final Connection conn;
    private final ScheduledExecutorService timer;

    WalCheckpointer(Path file) throws SQLException {
        this.conn = Sqlite.openWriter(file);
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pairwise-store-checkpoint");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::checkpoint, PERIOD_MS, PERIOD_MS, TimeUnit.MILLISECONDS);
    }

    private void checkpoint() {
        try (Statement st = conn.createStatement()) {
            st.execute("PRAGMA wal_checkpoint(PASSIVE)");
        } catch (SQLException e) {
            // A busy file or a closing store: the next period tries again, and the writer's close folds the WAL.
        }
    }

    /** Stops checkpointing; the writer, closed after this, folds what is left of the WAL into the file. */
    @Override
    public void close() {
        timer.shutdown();
        try {
            timer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            conn.close();
        } catch (SQLException ignored) {
            // nothing left to protect: the writer still holds the data
        }
    }
}
