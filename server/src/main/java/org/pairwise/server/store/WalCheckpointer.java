package org.pairwise.server.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Moves WAL frames into the database file off the writer's path, and keeps the WAL file bounded. SQLite's automatic
 * checkpoint runs inside the commit that crosses its threshold, so one vote batch in a thousand would wait for the
 * copy and its fsync; with the writer's auto-checkpoint off, this thread runs a PASSIVE checkpoint (which never waits
 * for, nor blocks, the writer) on its own connection every {@link #PERIOD_MS}.
 *
 * <p>PASSIVE alone does not bound the file: the WAL restarts from the top only when a write transaction begins just
 * after a checkpoint caught up with every frame, which under a steady stream of commits and reads never happens, and
 * the file never shrinks. So when the file has grown past {@code limitBytes}, or when nothing was committed for a
 * period and the file is not empty, a TRUNCATE checkpoint follows. First the store's readers are drained (new queries
 * wait, running ones finish, at most {@link #DRAIN_WAIT_MS}): a TRUNCATE holds the write lock while it waits for
 * readers, so waiting for them here instead keeps votes from waiting behind a long stats query. Then the writer
 * thread itself runs it between two batches: from another connection it would have to win the write lock from a
 * writer that takes it again the moment it commits, which under load it never does. It waits at most
 * {@link #TRUNCATE_WAIT_MS} for readers outside the pool (an export, a sqlite3 shell), copies what PASSIVE has not
 * and truncates the file to zero; votes wait for that copy only. If a wait runs out, the next period tries again.
 */
final class WalCheckpointer implements AutoCloseable {
    static final long PERIOD_MS = 250;
    static final int TRUNCATE_WAIT_MS = 200;
    static final long DRAIN_WAIT_MS = 2_000;

    private final Path file;
    private final Path wal;
    private final long limitBytes;
    private final ReadPool readers;
    private final GroupCommitWriter writer;
    private final ScheduledExecutorService timer;
    private Connection conn;  // only the timer thread touches it; null until opened (a start on a full disk)
    private long lastFrames = -1;

    WalCheckpointer(Path file, long limitBytes, ReadPool readers, GroupCommitWriter writer) {
        this.file = file;
        this.readers = readers;
        this.writer = writer;
        this.wal = file.resolveSibling(file.getFileName() + "-wal");
        this.limitBytes = limitBytes;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pairwise-store-checkpoint");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::checkpoint, PERIOD_MS, PERIOD_MS, TimeUnit.MILLISECONDS);
    }

    private void checkpoint() {
        try {
            if (conn == null) {
                conn = Sqlite.openWriter(file);
            }
            long frames = passive();
            boolean idle = frames == lastFrames;
            lastFrames = frames;
            long size = walSize();
            if ((size > limitBytes || (idle && size > 0)) && readers.whileNoneRunning(DRAIN_WAIT_MS,
                    this::truncate)) {
                lastFrames = -1;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();  // close() is stopping the timer
        } catch (SQLException e) {
            // A full disk, a busy or closing file: start over on a fresh connection next period; the writer's close
            // folds the WAL in the end.
            closeConnection();
        }
    }

    /** Returns the frames in the WAL as it found them. */
    private long passive() throws SQLException {
        try (Statement st = conn.createStatement();
             ResultSet rs = st.executeQuery("PRAGMA wal_checkpoint(PASSIVE)")) {
            rs.next();
            return rs.getLong(2);  // busy, log frames, checkpointed frames
        }
    }

    /** On the writer's connection, between batches; waits for it at most a few seconds. */
    private void truncate() throws SQLException {
        try {
            writer.submitBetweenBatches(tx -> {
                pragma(tx, "busy_timeout = " + TRUNCATE_WAIT_MS);
                try {
                    pragma(tx, "wal_checkpoint(TRUNCATE)");
                } finally {
                    pragma(tx, "busy_timeout = " + Sqlite.BUSY_TIMEOUT_MS);
                }
                return null;
            }).get(5, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new SQLException("the writer could not checkpoint: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void pragma(GroupCommitWriter.Tx tx, String pragma) throws SQLException {
        tx.prepare("PRAGMA " + pragma).executeQuery().close();
    }

    private long walSize() {
        try {
            return Files.size(wal);
        } catch (IOException e) {
            return 0;  // no WAL file: nothing to bound
        }
    }

    private void closeConnection() {
        if (conn != null) {
            try {
                conn.close();
            } catch (SQLException ignored) {
                // thrown away either way
            }
            conn = null;
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
        if (timer.isTerminated()) {
            closeConnection();
        }
    }
}
