package org.pairwise.server.cluster;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.pairwise.server.store.StoreLocation.PostgresDatabase;

/**
 * Which node trains: a PostgreSQL session-level advisory lock, taken on a connection of its own. The lock lives as
 * long as that connection, so it dies with its holder: a killed process's socket is closed by its kernel and
 * PostgreSQL ends the session at once; a holder that falls silent (a cut network) is dropped by the server's TCP
 * keepalives set here (idle 5 s, then 3 probes 2 s apart: about 11 s). A PostgreSQL lock rather than a Hazelcast one
 * because the trainer's state (the votes, the checkpoint it resumes from) is in that same database: whoever holds the
 * lock can reach what it needs, and a Hazelcast split brain cannot make two trainers.
 *
 * <p>The holder must also stop training when it loses the lock ({@link #stillHeld} is false, or throws): the lock
 * says who may write the trainer's next checkpoint, not who did.
 */
public final class TrainerLock implements AutoCloseable {
    /**
     * The lock's key: "trainer" in ASCII (migrations hold "pairwise", Dialect's: a node starting while another
     * trains must not wait for the trainer). One database is one campaign, so one key suffices.
     */
    public static final long KEY = 0x747261696e6572L;

    private final Connection connection;

    private TrainerLock(Connection connection) {
        this.connection = connection;
    }

    /** Opens the lock's own connection (the lock is not taken yet). */
    public static TrainerLock open(PostgresDatabase db) throws SQLException {
        Connection c = db.connect("pairwise-trainer-lock", java.util.Map.of("socketTimeout", "15"));
        try (Statement s = c.createStatement()) {
            s.execute("SET tcp_keepalives_idle = 5");
            s.execute("SET tcp_keepalives_interval = 2");
            s.execute("SET tcp_keepalives_count = 3");
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return new TrainerLock(c);
    }

    /** Takes the lock if nobody holds it; true when this connection holds it (taking it twice is harmless). */
    public synchronized boolean tryAcquire() throws SQLException {
        if (stillHeld()) {
            return true;
        }
        try (PreparedStatement s = connection.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
            s.setLong(1, KEY);
            try (ResultSet r = s.executeQuery()) {
                r.next();
                return r.getBoolean(1);
            }
        }
    }

    /** Whether this connection holds the lock now (asked of the server, not remembered). */
    public synchronized boolean stillHeld() throws SQLException {
        // A bigint key shows in pg_locks as classid (high 32 bits) and objid (low 32 bits), objsubid 1.
        try (PreparedStatement s = connection.prepareStatement("SELECT count(*) FROM pg_locks WHERE locktype = "
                + "'advisory' AND granted AND pid = pg_backend_pid() AND objsubid = 1 AND classid::bigint = ? "
                + "AND objid::bigint = ?")) {
            s.setLong(1, KEY >>> 32);
            s.setLong(2, KEY & 0xFFFFFFFFL);
            try (ResultSet r = s.executeQuery()) {
                r.next();
                return r.getLong(1) > 0;
            }
        }
    }

    /** The server process id of whichever session holds the lock, or 0 when nobody does (the dashboard's view). */
    public synchronized int holderPid() throws SQLException {
        try (PreparedStatement s = connection.prepareStatement("SELECT pid FROM pg_locks WHERE locktype = 'advisory' "
                + "AND granted AND objsubid = 1 AND classid::bigint = ? AND objid::bigint = ?")) {
            s.setLong(1, KEY >>> 32);
            s.setLong(2, KEY & 0xFFFFFFFFL);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? r.getInt(1) : 0;
            }
        }
    }

    /** Work done on the lock's connection in one transaction. */
    @FunctionalInterface
    public interface Fenced<T> {
        T run(Connection c) throws SQLException;
    }

    /** Thrown by {@link #fenced} when this node no longer holds the lock: it must stop training. */
    public static final class LostLock extends SQLException {
        public LostLock() {
            super("this node no longer holds the trainer lock");
        }
    }

    /**
     * Runs {@code work} in a transaction on the lock's own connection, after checking in that transaction that the
     * lock is held: a node that lost the lock (another trains now) cannot write the trainer's state, and since the
     * lock dies with this connection, a write that commits was made while it was held.
     */
    public synchronized <T> T fenced(Fenced<T> work) throws SQLException {
        connection.setAutoCommit(false);
        try {
            if (!stillHeld()) {
                throw new LostLock();
            }
            T out = work.run(connection);
            connection.commit();
            return out;
        } catch (SQLException | RuntimeException e) {
            try {
                connection.rollback();
            } catch (SQLException r) {
                e.addSuppressed(r);
            }
            throw e;
        } finally {
            connection.setAutoCommit(true);
        }
    }

    /** Closes the connection, which lets the lock go. */
    @Override
    public synchronized void close() throws SQLException {
        connection.close();
    }
}
