package org.pairwise.server.store;

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
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A few reader threads, each with its own read connection (a JDBC connection is not for sharing between threads at
 * once). Every reader sees the last commit and none waits for the writer (SQLite: under WAL; PostgreSQL: MVCC). Each
 * query is its own short read transaction; and {@link #whileNoneRunning} lets the WAL checkpointer hold new queries
 * back for the moment it needs no reader on the WAL, so reads (a stats query on a large file takes a while) never keep
 * the WAL from restarting, and the writer is not the one that waits for them.
 */
final class ReadPool implements AutoCloseable {

    @FunctionalInterface
    interface Query<T> {
        T run(Connection conn) throws SQLException;
    }

    @FunctionalInterface
    interface Action {
        void run() throws SQLException;
    }

    /**
     * A read connection. {@code partial}: it sees less than the whole truth under some condition (SQLite on a disk
     * too full for the WAL index reads the database file alone), so the pool trades it for a full one as soon as one
     * opens.
     */
    record Reader(Connection conn, boolean partial) {}

    /** Opens read connections: SQLite's read-only ones on the file, PostgreSQL's to the server. */
    @FunctionalInterface
    interface Connector {
        Reader open() throws SQLException;
    }

    private final Connector connector;
    private final ExecutorService executor;
    private final ThreadLocal<Reader> connection = new ThreadLocal<>();
    private final List<Connection> opened = new CopyOnWriteArrayList<>();
    // Queries hold the read side; whileNoneRunning takes the write side. Fair, so a waiting checkpoint holds new
    // queries back instead of waiting for a gap that a steady stream of queries never leaves.
    private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock(true);

    ReadPool(Connector connector, int threads, String namePrefix) {
        this.connector = connector;
        AtomicInteger n = new AtomicInteger();
        this.executor = Executors.newFixedThreadPool(threads,
                r -> Thread.ofPlatform().name(namePrefix + n.incrementAndGet()).daemon(true).unstarted(r));
    }

    <T> CompletableFuture<T> submit(Query<T> query) {
        try {
            return CompletableFuture.supplyAsync(() -> {
                gate.readLock().lock();
                try {
                    return query.run(connection());
                } catch (SQLException e) {
                    throw new StoreException("read failed: " + e.getMessage(), e);
                } finally {
                    gate.readLock().unlock();
                }
            }, executor);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(new IllegalStateException("the preference store is closed"));
        }
    }

    /**
     * Runs the action once no query is running, holding new ones back until it is done; false, without running it,
     * when the running queries did not finish within waitMs.
     */
    boolean whileNoneRunning(long waitMs, Action action) throws SQLException, InterruptedException {
        if (!gate.writeLock().tryLock(waitMs, TimeUnit.MILLISECONDS)) {
            return false;
        }
        try {
            action.run();
            return true;
        } finally {
            gate.writeLock().unlock();
        }
    }

    private Connection connection() throws SQLException {
        Reader r = connection.get();
        if (r != null && r.partial()) {
            // Trade it for a full one as soon as one opens (on SQLite: once the disk has room for the WAL index,
            // which the writer needs too before it can commit anything the file lacks).
            Reader again = connector.open();
            if (again.partial()) {
                closeQuietly(again.conn());
            } else {
                opened.remove(r.conn());
                closeQuietly(r.conn());
                r = keep(again);
            }
        }
        return (r == null ? keep(connector.open()) : r).conn();
    }

    private Reader keep(Reader r) {
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
