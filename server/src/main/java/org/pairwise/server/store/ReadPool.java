package org.pairwise.server.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A few reader threads, each with its own read-only connection (a JDBC connection is not for sharing between threads
 * at once). Under WAL every reader sees the last commit and none waits for the writer. Each query is its own short
 * read transaction, so no reader pins an old snapshot that the WAL checkpoint would have to wait for.
 */
final class ReadPool implements AutoCloseable {

    @FunctionalInterface
    interface Query<T> {
        T run(Connection conn) throws SQLException;
    }

    private final Path file;
    private final ExecutorService executor;
    private final ThreadLocal<Sqlite.Reader> connection = new ThreadLocal<>();
    private final List<Connection> opened = new CopyOnWriteArrayList<>();

    ReadPool(Path file, int threads, String namePrefix) {
        this.file = file;
        AtomicInteger n = new AtomicInteger();
        this.executor = Executors.newFixedThreadPool(threads,
                r -> Thread.ofPlatform().name(namePrefix + n.incrementAndGet()).daemon(true).unstarted(r));
    }

    <T> CompletableFuture<T> submit(Query<T> query) {
        try {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    return query.run(connection());
                } catch (SQLException e) {
                    throw new StoreException("read failed: " + e.getMessage(), e);
                }
            }, executor);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(new IllegalStateException("the preference store is closed"));
        }
    }

    private Connection connection() throws SQLException {
        Sqlite.Reader r = connection.get();
        if (r != null && r.fileOnly()) {
            // Opened on a full disk, reading the database file alone: trade it for a WAL reader as soon as one
            // opens, since the writer needs the same space before it can commit anything the file lacks.
            try {
                Connection wal = Sqlite.openWalReader(file);
                opened.remove(r.conn());
                closeQuietly(r.conn());
                r = keep(new Sqlite.Reader(wal, false));
            } catch (SQLException stillFull) {
                // the file is still the whole state
            }
        }
        return (r == null ? keep(Sqlite.openReader(file)) : r).conn();
    }

    private Sqlite.Reader keep(Sqlite.Reader r) {
        connection.set(r);
        opened.add(r.conn());
        return r;
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // read-only: nothing to lose
        }
    }

    /** Lets running reads finish, then closes every reader connection. */
    @Override
    public void close() {
        executor.shutdown();
        try {
            if (!executor.awaitTermination(30, TimeUnit.SECONDS)) {
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
        opened.forEach(ReadPool::closeQuietly);
    }
}
