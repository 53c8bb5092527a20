package org.pairwise.server.store;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * How the store connects to PostgreSQL: the writer's connection (autocommit, so the writer's own BEGIN/COMMIT frame
 * each batch) and read connections (REPEATABLE READ, so a multi-statement read such as the stats sees one snapshot).
 * Durability is the server's: a COMMIT returns once its WAL record is flushed (synchronous_commit, on by default), so
 * an acknowledged vote survives the crash of this process and of the database server.
 */
record Postgres(StoreLocation.PostgresDatabase at) implements GroupCommitWriter.Database {
    @Override
    public Connection open() throws SQLException {
        return connect();
    }

    @Override
    public Dialect dialect() {
        return Dialect.POSTGRES;
    }

    ReadPool.Reader openReader() throws SQLException {
        Connection c = connect();
        try {
            c.setReadOnly(true);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return new ReadPool.Reader(c, false);
    }

    private Connection connect() throws SQLException {
        return at.connect("pairwise", java.util.Map.of());
    }
}
