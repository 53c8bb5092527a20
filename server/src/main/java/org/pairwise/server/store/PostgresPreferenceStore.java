package org.pairwise.server.store;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * The preference store on a PostgreSQL server, which several nodes may share. The same writer design as SQLite's
 * (one writer thread and connection per node, many votes per commit, each acknowledged after its commit), the same
 * schema (the same migrations, in PostgreSQL's types), the same SQL. What holds across nodes is the database's:
 * deduplication and one vote per annotator and pair are unique constraints (a vote losing the race to another node
 * is answered as the duplicate or conflict it is), "at most k per pair" is a CHECK raised under the pair's row lock,
 * and migrations run under an advisory lock, so nodes starting together migrate once.
 */
public final class PostgresPreferenceStore extends JdbcPreferenceStore {
    private final StoreLocation.PostgresDatabase at;

    /** Connects, and brings the schema up to date. */
    public PostgresPreferenceStore(StoreLocation.PostgresDatabase at, int writeQueueCapacity) {
        Postgres db = new Postgres(at);
        Connection conn = null;
        try {
            conn = db.open();
            Migrations.migrate(conn, Dialect.POSTGRES, Migrations.ALL);
        } catch (SQLException | RuntimeException e) {
            closeQuietly(conn);
            throw new StoreException("cannot open the preference store " + at + ": " + e.getMessage(), e);
        }
        ReadPool.Connector readers = db::openReader;
        super(new GroupCommitWriter(db, conn, "pairwise-store-writer", writeQueueCapacity, MAX_BATCH),
                new ReadPool(readers, READ_THREADS, "pairwise-store-read-"), readers);
        this.at = at;
    }

    /** Where it is, without the password. */
    public StoreLocation.PostgresDatabase location() {
        return at;
    }

    @Override
    public String toString() {
        return "PostgresPreferenceStore[" + at + "]";
    }
}
