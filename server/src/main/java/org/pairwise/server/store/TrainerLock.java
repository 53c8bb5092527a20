package org.pairwise.server.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/**
 * The one-trainer rule of a cluster of nodes sharing a PostgreSQL store: a session-level advisory lock, held on a
 * connection of the lock's own. PostgreSQL frees it when that session ends for any reason: a clean release, the
 * holder's process killed (its socket closes, the server ends the session at once), or the connection lost (once the
 * server notices, through TCP keep-alive). So a dead trainer never blocks the next one, and no table row needs
 * cleaning up. Advisory locks belong to one database: two campaigns in two databases each have their own trainer.
 *
 * <p>A holder must check {@link #held} before it commits work only a trainer may do (the lock can be lost with the
 * connection while the process lives on); that check and the work are not one transaction, so the cluster's trainer
 * also writes its progress with conditions a second trainer's rows would fail (the store's "trained once" rules).
 */
public final class TrainerLock implements AutoCloseable {
    /** The advisory lock key: any constant no other lock of ours uses ("trainer"). */
    static final long KEY = 0x747261696e6572L;
    private static final String HELD = "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
            + " AND granted AND classid::bigint = ? AND objid::bigint = ? AND objsubid = 1";

    private final Connection conn;

    private TrainerLock(Connection conn) {
        this.conn = conn;
    }

    /** The lock, if no other session holds it now; never waits. */
    public static Optional<TrainerLock> tryAcquire(StoreLocation.PostgresDatabase at) throws SQLException {
        Connection c = new Postgres(at).open();
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
            ps.setLong(1, KEY);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (rs.getBoolean(1)) {
                    return Optional.of(new TrainerLock(c));
                }
            }
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
        c.close();
        return Optional.empty();
    }

    /** Whether this session still holds the lock: false once its connection is gone. */
    public boolean held() {
        try (PreparedStatement ps = conn.prepareStatement(HELD)) {
            // A bigint key is stored as its high and low 32 bits (classid, objid), objsubid 1.
            ps.setLong(1, KEY >>> 32);
            ps.setLong(2, KEY & 0xffffffffL);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            return false;
        }
    }

    /** The server process of the holding session (pg_backend_pid), for logs and the cluster's view. */
    public int backendPid() throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("SELECT pg_backend_pid()");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** Releases the lock by ending its session (which also frees it where the unlock itself could not be sent). */
    @Override
    public void close() {
        try {
            conn.close();
        } catch (SQLException ignored) {
            // the session is gone either way, and with it the lock
        }
    }
}
