package org.pairwise.server.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.pairwise.server.store.PreferenceStore.StoreUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that writes. It takes whatever is queued (up to maxBatch writes), runs it all in one transaction,
 * commits — one fsync for the whole batch under synchronous=FULL — and only then completes the futures, so a
 * completed future means the write is on disk. Each write runs under its own savepoint: one failing write (a foreign
 * key, a constraint) is rolled back alone and fails alone, the rest of the batch still commits. Where a savepoint is
 * a round trip to a server (PostgreSQL), a batch first runs without any, and again with them only if a write failed.
 *
 * <p>Bounded writes (votes from the outside world) are admitted only while fewer than {@code boundedCapacity} of them
 * wait; past that they fail at once with {@link PreferenceStore.StoreBusyException}. Internal writes (prompts, pairs,
 * training marks, checkpoints) come from our own components at a pace we control and are always admitted, so the
 * trainer never has to retry a bookkeeping write.
 *
 * <p>A transaction that fails as a whole (a full disk at COMMIT, a lost file or connection) fails exactly the writes
 * of its batch with {@link StoreUnavailableException}; the connection and its statements are then thrown away, since
 * after such a failure neither can be trusted, and the next batch starts on a fresh one. So writes resume by
 * themselves once the cause is gone, and a store that cannot even open its connection (a start on a full disk) keeps
 * trying at every batch. What differs between databases is in {@link Database}.
 */
final class GroupCommitWriter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GroupCommitWriter.class);

    /** What the writer needs from a database: SQLite's is {@link Sqlite.Writer}, PostgreSQL's {@link Postgres}. */
    interface Database {
        /** A fresh read-write connection, set up for the writer. */
        Connection open() throws SQLException;

        Dialect dialect();
    }

    /** A unit of work on the writer's connection, inside the open transaction. */
    @FunctionalInterface
    interface Work<T> {
        T run(Tx tx) throws SQLException;
    }

    /** The writer's view of its connection: prepared statements are cached because the same few run per write. */
    static final class Tx {
        private final Connection conn;
        private final Dialect dialect;
        private final Map<String, PreparedStatement> statements = new HashMap<>();
        private final List<Runnable> afterCommit = new ArrayList<>();

        private Tx(Connection conn, Dialect dialect) {
            this.conn = conn;
            this.dialect = dialect;
        }

        Dialect dialect() {
            return dialect;
        }

        PreparedStatement prepare(String sql) throws SQLException {
            PreparedStatement ps = statements.get(sql);
            if (ps == null) {
                ps = conn.prepareStatement(sql);
                statements.put(sql, ps);
            }
            return ps;
        }

        /** Runs an insert, update or delete with these parameters (setObject each); returns the rows it changed. */
        int update(String sql, Object... params) throws SQLException {
            PreparedStatement ps = prepare(sql);
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            return ps.executeUpdate();
        }

        /**
         * Runs {@code action} on the writer thread once the transaction holding the current write has committed, and
         * never if the write or its transaction is rolled back: for state kept in memory beside the database (the
         * finaliser's watermark), which must not run ahead of what is committed.
         */
        void afterCommit(Runnable action) {
            afterCommit.add(action);
        }

        private void committed() {
            List<Runnable> actions = List.copyOf(afterCommit);
            afterCommit.clear();
            actions.forEach(Runnable::run);
        }

        long lastInsertRowid() throws SQLException {
            try (ResultSet rs = prepare(dialect.lastInsertId()).executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }

        private void exec(String sql) throws SQLException {
            prepare(sql).execute();
        }

        /** Closes the statements, then the connection. */
        private void close() {
            for (PreparedStatement ps : statements.values()) {
                try {
                    ps.close();
                } catch (SQLException ignored) {
                    // closing the connection next frees it anyway
                }
            }
            statements.clear();
            try {
                conn.close();
            } catch (SQLException ignored) {
                // thrown away either way; the database has what was committed
            }
        }
    }

    /** outside: runs after the batch it came with, outside any transaction (maintenance, not a write). */
    private record Pending<T>(Work<T> work, CompletableFuture<T> future, boolean bounded, boolean outside) {}

    /** Enqueued last by close(): everything before it is written, then the thread ends. */
    private static final Pending<Void> STOP = new Pending<>(null, null, false, false);

    private final Database db;
    private Tx tx;  // null until opened, and after a failure threw it away; only the writer thread touches it
    private long failedInARow;
    private final int boundedCapacity;
    private final int maxBatch;
    private final LinkedBlockingQueue<Pending<?>> queue = new LinkedBlockingQueue<>();
    private final AtomicInteger boundedQueued = new AtomicInteger();
    // Submitters hold the read side; close() takes the write side, so nothing slips in behind STOP.
    private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock();
    private boolean closed;
    private volatile Throwable died;
    private final AtomicLong transactions = new AtomicLong();
    private final AtomicLong writes = new AtomicLong();
    private final Thread thread;

    /** @param first a connection already opened on db (the store migrated through it), or null to open one */
    GroupCommitWriter(Database db, Connection first, String threadName, int boundedCapacity, int maxBatch) {
        if (boundedCapacity < 1 || maxBatch < 1) {
            throw new IllegalArgumentException("capacity and batch size must be positive");
        }
        this.db = db;
        this.tx = first == null ? null : new Tx(first, db.dialect());
        this.boundedCapacity = boundedCapacity;
        this.maxBatch = maxBatch;
        // Daemon: an unclosed store must not keep a CLI alive; nothing acknowledged is at risk, since
        // acknowledgement waits for the commit.
        this.thread = Thread.ofPlatform().name(threadName).daemon(true).start(this::loop);
    }

    /** Always admitted (internal writes). */
    <T> CompletableFuture<T> submit(Work<T> work) {
        return enqueue(work, false, false);
    }

    /** Admitted only while the bounded queue has room; otherwise fails with StoreBusyException. */
    <T> CompletableFuture<T> submitBounded(Work<T> work) {
        return enqueue(work, true, false);
    }

    /**
     * Runs work on the writer's connection between two transactions: maintenance that needs the write lock (a WAL
     * checkpoint that truncates), taken here without competing with the writer for it.
     */
    <T> CompletableFuture<T> submitBetweenBatches(Work<T> work) {
        return enqueue(work, false, true);
    }

    /** Committed transactions so far (each one fsync). */
    long transactions() {
        return transactions.get();
    }

    /** Writes committed so far, across all transactions. */
    long writes() {
        return writes.get();
    }

    private <T> CompletableFuture<T> enqueue(Work<T> work, boolean bounded, boolean outside) {
        gate.readLock().lock();
        try {
            if (closed) {
                return CompletableFuture.failedFuture(new IllegalStateException("the preference store is closed"));
            }
            if (died != null) {
                return CompletableFuture.failedFuture(new IllegalStateException("the store writer died", died));
            }
            if (bounded && boundedQueued.incrementAndGet() > boundedCapacity) {
                boundedQueued.decrementAndGet();
                return CompletableFuture.failedFuture(new PreferenceStore.StoreBusyException(
                        "the preference store's write queue is full (" + boundedCapacity + " waiting); retry shortly"));
            }
            Pending<T> p = new Pending<>(work, new CompletableFuture<>(), bounded, outside);
            queue.add(p);
            return p.future();
        } finally {
            gate.readLock().unlock();
        }
    }

    private void loop() {
        List<Pending<?>> batch = new ArrayList<>(maxBatch);
        try {
            boolean stopping = false;
            while (!stopping) {
                try {
                    batch.add(queue.take());
                } catch (InterruptedException e) {
                    continue; // only STOP ends the loop, so nothing queued is dropped
                }
                queue.drainTo(batch, maxBatch - 1);
                if (batch.getLast() == STOP) {
                    batch.removeLast();
                    stopping = true;
                }
                boolean maintenance = false;
                for (Pending<?> p : batch) {
                    if (p.bounded()) {
                        boundedQueued.decrementAndGet();
                    }
                    maintenance |= p.outside();
                }
                List<Pending<?>> after = List.of();
                if (maintenance) {
                    after = batch.stream().filter(Pending::outside).toList();
                    batch.removeIf(Pending::outside);
                }
                if (!batch.isEmpty()) {
                    commit(batch);
                }
                after.forEach(this::runOutsideTransaction);
                batch.clear();
            }
        } catch (Throwable t) {
            died = t;
            batch.forEach(p -> failQuietly(p, t));
            queue.forEach(p -> failQuietly(p, t));
        }
    }

    private void runOutsideTransaction(Pending<?> p) {
        try {
            if (tx == null) {
                tx = new Tx(db.open(), db.dialect());
            }
            Object result = p.work().run(tx);
            tx.committed();  // outside a transaction each statement commits by itself
            complete(p, result, null);
        } catch (SQLException | RuntimeException e) {
            if (tx != null) {
                tx.afterCommit.clear();
            }
            p.future().completeExceptionally(e);
        }
    }

    private static void failQuietly(Pending<?> p, Throwable t) {
        if (p != STOP) {
            p.future().completeExceptionally(t);
        }
    }

    private void commit(List<Pending<?>> batch) {
        Object[] results = new Object[batch.size()];
        Throwable[] failures = new Throwable[batch.size()];
        try {
            if (!run(batch, results, failures, db.dialect().savepointPerWrite())) {
                run(batch, results, failures, true);
            }
        } catch (SQLException e) {
            // Nothing of this batch is durable: say so to every caller rather than acknowledge anything.
            StoreUnavailableException failure = discard(e, batch.size());
            batch.forEach(p -> p.future().completeExceptionally(failure));
            return;
        }
        tx.committed();
        if (failedInARow > 0) {
            LOG.info("the preference store takes writes again, after {} failed transactions", failedInARow);
            failedInARow = 0;
        }
        transactions.incrementAndGet();
        writes.addAndGet(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            complete(batch.get(i), results[i], failures[i]);
        }
    }

    /**
     * Runs the batch in one transaction and commits it; false when it must run again isolated. isolated: each write
     * under its own savepoint, so one that fails is rolled back alone and fails alone. Not isolated: no savepoints,
     * and the first write that fails rolls the whole transaction back (false); the works touch nothing but the
     * database and their afterCommit actions, so running them twice is running them once.
     */
    private boolean run(List<Pending<?>> batch, Object[] results, Throwable[] failures, boolean isolated)
            throws SQLException {
        if (tx == null) {
            tx = new Tx(db.open(), db.dialect());
        }
        tx.exec(db.dialect().beginWrite());
        for (int i = 0; i < batch.size(); i++) {
            if (isolated) {
                tx.exec("SAVEPOINT w");
            }
            int hooks = tx.afterCommit.size();
            try {
                results[i] = batch.get(i).work().run(tx);
                if (isolated) {
                    tx.exec("RELEASE w");
                }
            } catch (SQLException | RuntimeException e) {
                if (e instanceof SQLException sql && !db.dialect().isWriteError(sql)) {
                    throw sql;  // not this write's fault (space, I/O): the transaction may be gone already
                }
                tx.afterCommit.subList(hooks, tx.afterCommit.size()).clear();
                if (!isolated) {
                    tx.afterCommit.clear();
                    tx.exec("ROLLBACK");
                    return false;
                }
                failures[i] = e instanceof SQLException sql
                        ? new StoreException("write failed: " + sql.getMessage(), sql) : e;
                tx.exec("ROLLBACK TO w");
                tx.exec("RELEASE w");
            }
        }
        tx.exec("COMMIT");
        return true;
    }

    @SuppressWarnings("unchecked")
    private static <T> void complete(Pending<T> p, Object result, Throwable failure) {
        if (failure != null) {
            p.future().completeExceptionally(failure);
        } else {
            p.future().complete((T) result);
        }
    }

    /** Rolls back what can be, closes the connection and its statements, and says what the callers are told. */
    private StoreUnavailableException discard(SQLException cause, int writes) {
        boolean full = db.dialect().isDiskFull(cause);
        if (failedInARow++ == 0) {
            LOG.warn("the preference store cannot take writes ({} writes failed; retrying with every new write)",
                    writes, cause);
        }
        if (tx != null) {
            try {
                tx.exec("ROLLBACK");
            } catch (SQLException e) {
                // "no transaction is active": SQLite already rolled it back (as it does on SQLITE_FULL at COMMIT)
                cause.addSuppressed(e);
            }
            tx.close();
            tx = null;
        }
        return new StoreUnavailableException(full
                ? "the disk holding the preference store is full: nothing of this write was stored"
                : "the preference store cannot take writes right now: nothing of this write was stored", full, cause);
    }

    /** Writes everything already queued, commits it, then closes the connection. New writes fail from now on. */
    @Override
    public void close() {
        gate.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            queue.add(STOP);
        } finally {
            gate.writeLock().unlock();
        }
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true; // finish the drain first: stopping halfway would fail queued writes
            }
        }
        if (tx != null) {
            tx.close();  // every batch has committed or failed its futures; nothing is left to lose
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
