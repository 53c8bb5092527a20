package org.pairwise.server.store;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.regex.Pattern;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

/**
 * The few things SQLite and PostgreSQL say differently. Every query, write and migration of the store is one SQL text
 * for both; what differs is here: how a write transaction starts, how an insert's new id is read back, the column
 * types of the DDL (SQLite's are written, PostgreSQL's derived from them by {@link #ddl}, so both have the same
 * schema by construction), where the schema version lives, and how an error is classified.
 */
enum Dialect {
    SQLITE {
        @Override
        String beginWrite() {
            return "BEGIN IMMEDIATE";  // takes the write lock up front: a batch never fails half-way on a busy lock
        }

        @Override
        String lastInsertId() {
            return "SELECT last_insert_rowid()";
        }

        @Override
        boolean savepointPerWrite() {
            return true;  // in-process, a savepoint costs next to nothing
        }

        @Override
        boolean concurrentWriters() {
            return false;  // one process holds the file (DataDir's lock)
        }

        @Override
        String ddl(String sqlite) {
            return sqlite;
        }

        @Override
        void lockSchema(Statement st) {
            // BEGIN IMMEDIATE already holds the file's write lock: no second process migrates meanwhile
        }

        @Override
        int schemaVersion(Statement st) throws SQLException {
            // The file header: it commits atomically with the DDL.
            try (ResultSet rs = st.executeQuery("PRAGMA user_version")) {
                rs.next();
                return rs.getInt(1);
            }
        }

        @Override
        void setSchemaVersion(Statement st, int version) throws SQLException {
            st.execute("PRAGMA user_version = " + version);
        }

        @Override
        boolean isWriteError(SQLException e) {
            return e instanceof SQLiteException s && (s.getResultCode().code & 0xff) == CONSTRAINT;
        }

        @Override
        boolean isDiskFull(SQLException e) {
            if (!(e instanceof SQLiteException s)) {
                return false;
            }
            SQLiteErrorCode code = s.getResultCode();
            return code == SQLiteErrorCode.SQLITE_FULL || code == SQLiteErrorCode.SQLITE_IOERR_SHMSIZE;
        }
    },

    POSTGRES {
        @Override
        String beginWrite() {
            return "BEGIN";  // row locks and the constraints order concurrent writers (other nodes) per row
        }

        @Override
        String lastInsertId() {
            return "SELECT lastval()";  // the session's last sequence value: the id its last insert drew
        }

        @Override
        boolean savepointPerWrite() {
            return false;  // two round trips to the server per write; a batch where one write fails runs again
        }

        @Override
        boolean concurrentWriters() {
            return true;
        }

        @Override
        String ddl(String sqlite) {
            String s = ROW_ID.matcher(sqlite).replaceAll("id BIGSERIAL PRIMARY KEY");
            s = INTEGER.matcher(s).replaceAll("BIGINT");  // SQLite's INTEGER is 64 bits (times are milliseconds)
            s = BLOB.matcher(s).replaceAll("BYTEA");
            return REAL.matcher(s).replaceAll("DOUBLE PRECISION");  // SQLite's REAL is 8 bytes
        }

        @Override
        void lockSchema(Statement st) throws SQLException {
            // Several nodes may start at once: one migrates, the others wait here and then find it done.
            st.execute("SELECT pg_advisory_xact_lock(" + MIGRATION_LOCK + ")");
            st.execute("CREATE TABLE IF NOT EXISTS " + VERSION_TABLE + " (version INTEGER NOT NULL)");
        }

        @Override
        int schemaVersion(Statement st) throws SQLException {
            try (ResultSet rs = st.executeQuery("SELECT to_regclass('" + VERSION_TABLE + "') IS NOT NULL")) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    return 0;
                }
            }
            try (ResultSet rs = st.executeQuery("SELECT COALESCE(MAX(version), 0) FROM " + VERSION_TABLE)) {
                rs.next();
                return rs.getInt(1);
            }
        }

        @Override
        void setSchemaVersion(Statement st, int version) throws SQLException {
            st.execute("DELETE FROM " + VERSION_TABLE);
            st.execute("INSERT INTO " + VERSION_TABLE + " (version) VALUES (" + version + ")");
        }

        @Override
        boolean isWriteError(SQLException e) {
            // Class 23: a constraint (unique, foreign key, check, not null) refused this write alone.
            return e.getSQLState() != null && e.getSQLState().startsWith("23");
        }

        @Override
        boolean isDiskFull(SQLException e) {
            return "53100".equals(e.getSQLState());
        }
    };

    private static final int CONSTRAINT = SQLiteErrorCode.SQLITE_CONSTRAINT.code;
    private static final Pattern ROW_ID = Pattern.compile("\\bid\\s+INTEGER PRIMARY KEY( AUTOINCREMENT)?");
    private static final Pattern INTEGER = Pattern.compile("\\bINTEGER\\b");
    private static final Pattern BLOB = Pattern.compile("\\bBLOB\\b");
    private static final Pattern REAL = Pattern.compile("\\bREAL\\b");
    /** PostgreSQL's home of the schema version (SQLite's is PRAGMA user_version). */
    static final String VERSION_TABLE = "pairwise_schema_version";
    /** The advisory lock key migrations hold; any constant no other lock of ours uses. */
    private static final long MIGRATION_LOCK = 0x7061697277697365L;  // "pairwise"

    /** The statement that starts a write transaction. */
    abstract String beginWrite();

    /**
     * Whether the writer puts each write of a batch under its own savepoint up front, or runs the batch without any
     * and, only when a write fails, again with them (see GroupCommitWriter).
     */
    abstract boolean savepointPerWrite();

    /**
     * Whether several processes may insert votes at once (PostgreSQL, a cluster's nodes): then ids are drawn in one
     * order and committed in another, and the finaliser's watermark must wait out a commit horizon.
     */
    abstract boolean concurrentWriters();

    /** A query returning the id the connection's last insert drew. */
    abstract String lastInsertId();

    /** A migration statement as this database takes it (they are written in SQLite's words). */
    abstract String ddl(String sqlite);

    /** Inside a migration's transaction, before its version is read: keeps concurrent migrations apart. */
    abstract void lockSchema(Statement st) throws SQLException;

    abstract int schemaVersion(Statement st) throws SQLException;

    abstract void setSchemaVersion(Statement st, int version) throws SQLException;

    /** Whether the failure is the write's own (a constraint): it fails that write alone, the batch goes on. */
    abstract boolean isWriteError(SQLException e);

    /** Whether the database ran out of space. */
    abstract boolean isDiskFull(SQLException e);
}
