package org.pairwise.server.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * Versioned schema, one list for both databases: written in SQLite's words, PostgreSQL's derived by {@link
 * Dialect#ddl}. The version lives in SQLite's {@code PRAGMA user_version} (the file header, so it commits atomically
 * with the DDL) or PostgreSQL's {@value Dialect#VERSION_TABLE} table (DDL is transactional there too). A change to the
 * schema is a new {@link Migration} appended to {@link #ALL}; a migration that has shipped is never edited, because
 * files out there already ran it.
 */
final class Migrations {

    /** One step from version - 1 to version. */
    record Migration(int version, String description, List<String> statements) {}

    static final List<Migration> ALL = List.of(
            new Migration(1, "prompts, pairs, preferences, trainer checkpoints", List.of(
                    // Times are milliseconds since the epoch: datetime(created_at / 1000, 'unixepoch') in sqlite3.
                    """
                    CREATE TABLE prompts (
                        id            INTEGER PRIMARY KEY AUTOINCREMENT,
                        source        TEXT    NOT NULL,
                        text          TEXT    NOT NULL,
                        messages_json TEXT,
                        created_at    INTEGER NOT NULL
                    )""",
                    // Token ids and log-probs are little-endian int32/float32 BLOBs (see Blobs).
                    """
                    CREATE TABLE pairs (
                        pair_id           TEXT    PRIMARY KEY,
                        prompt_id         INTEGER NOT NULL REFERENCES prompts(id),
                        prompt_text       TEXT    NOT NULL,
                        prompt_ids        BLOB,
                        a_text            TEXT    NOT NULL,
                        a_token_ids       BLOB,
                        a_logprobs        BLOB,
                        a_finish          TEXT,
                        b_text            TEXT    NOT NULL,
                        b_token_ids       BLOB,
                        b_logprobs        BLOB,
                        b_finish          TEXT,
                        a_is_first_sample INTEGER NOT NULL CHECK (a_is_first_sample IN (0, 1)),
                        policy_version    INTEGER NOT NULL,
                        settings_json     TEXT,
                        created_at        INTEGER NOT NULL
                    )""",
                    "CREATE INDEX pairs_prompt ON pairs(prompt_id)",
                    "CREATE INDEX pairs_policy_version ON pairs(policy_version)",
                    """
                    CREATE TABLE preferences (
                        id                 INTEGER PRIMARY KEY AUTOINCREMENT,
                        pair_id            TEXT    NOT NULL REFERENCES pairs(pair_id),
                        choice             TEXT    NOT NULL CHECK (choice IN ('a', 'b', 'tie', 'both_bad')),
                        annotator          TEXT,
                        idempotency_key    TEXT    UNIQUE,
                        comment            TEXT,
                        created_at         INTEGER NOT NULL,
                        trained_at_version INTEGER
                    )""",
                    "CREATE INDEX preferences_pair ON preferences(pair_id)",
                    // The writer dedupes before inserting; this index is the database's own guarantee of one vote
                    // per named annotator and pair (anonymous votes are not deduped by person).
                    """
                    CREATE UNIQUE INDEX preferences_annotator_pair ON preferences(annotator, pair_id)
                        WHERE annotator IS NOT NULL""",
                    // The trainer's backlog and the stats' untrained count, without scanning trained history.
                    """
                    CREATE INDEX preferences_untrained_ab ON preferences(id)
                        WHERE trained_at_version IS NULL AND choice IN ('a', 'b')""",
                    """
                    CREATE TABLE trainer_checkpoints (
                        id             INTEGER PRIMARY KEY AUTOINCREMENT,
                        step           INTEGER NOT NULL,
                        policy_version INTEGER NOT NULL,
                        last_vote_id   INTEGER NOT NULL,
                        path           TEXT    NOT NULL,
                        created_at     INTEGER NOT NULL
                    )""")),
            new Migration(2, "annotator accounts, sessions, invites, guidelines", List.of(
                    // A name is never reused: a deleted account keeps its row (status 'deleted'), so old votes,
                    // stored under preferences.annotator = name, stay attributable to one person.
                    """
                    CREATE TABLE annotators (
                        id         INTEGER PRIMARY KEY,
                        name       TEXT    NOT NULL UNIQUE,
                        role       TEXT    NOT NULL CHECK (role IN ('admin', 'annotator', 'viewer')),
                        status     TEXT    NOT NULL CHECK (status IN ('active', 'disabled', 'deleted')),
                        token_hash TEXT    UNIQUE,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    )""",
                    // Secrets are stored only as SHA-256 hex digests (see auth.Secrets): the file lets nobody in.
                    """
                    CREATE TABLE invites (
                        code_hash    TEXT    PRIMARY KEY,
                        annotator_id INTEGER NOT NULL REFERENCES annotators(id),
                        created_at   INTEGER NOT NULL,
                        expires_at   INTEGER NOT NULL,
                        used_at      INTEGER
                    )""",
                    "CREATE INDEX invites_annotator ON invites(annotator_id)",
                    """
                    CREATE TABLE sessions (
                        session_hash TEXT    PRIMARY KEY,
                        annotator_id INTEGER NOT NULL REFERENCES annotators(id),
                        created_at   INTEGER NOT NULL,
                        expires_at   INTEGER NOT NULL,
                        last_seen_at INTEGER NOT NULL
                    )""",
                    "CREATE INDEX sessions_annotator ON sessions(annotator_id)",
                    // Versions only grow; the current guidelines are the highest version.
                    """
                    CREATE TABLE guidelines (
                        version    INTEGER PRIMARY KEY,
                        format     TEXT    NOT NULL CHECK (format IN ('text', 'markdown')),
                        body       TEXT    NOT NULL,
                        created_at INTEGER NOT NULL,
                        created_by TEXT
                    )""")),
            new Migration(3, "assignment, skips, flags, gold, aggregation, undo", CampaignSchema.STATEMENTS),
            // Battle and gold pairs' votes are never (battles: not by default) trained: the stats subtract them from
            // the votes waiting for the trainer, reading only these pairs, so the count stays as cheap as before.
            new Migration(4, "index of the pairs that are not policy pairs (battles, gold)", List.of(
                    "CREATE INDEX pairs_not_policy ON pairs(pair_id) WHERE kind <> 'policy'")),
            // Published versions in the database, beside the checkpoints: what every node of a shared store reads.
            new Migration(5, "published policy versions", List.of("""
                    CREATE TABLE policy_versions (
                        version      INTEGER PRIMARY KEY,
                        step         INTEGER NOT NULL,
                        path         TEXT    NOT NULL,
                        published_at INTEGER NOT NULL
                    )""")),
            // A cluster's trainer leaves these for the other nodes (cluster.SharedTrainerState); one node leaves
            // them empty.
            new Migration(6, "published adapters and trainer checkpoints as archives, for a cluster", List.of("""
                    CREATE TABLE policy_version_adapters (
                        policy_version INTEGER PRIMARY KEY,
                        step           INTEGER NOT NULL,
                        adapter_zip    BLOB    NOT NULL,
                        created_at     INTEGER NOT NULL
                    )""", """
                    CREATE TABLE trainer_checkpoint_archives (
                        step           INTEGER PRIMARY KEY,
                        policy_version INTEGER NOT NULL,
                        archive_zip    BLOB    NOT NULL,
                        created_at     INTEGER NOT NULL
                    )""")));

    private Migrations() {}

    static int latestVersion(List<Migration> migrations) {
        return migrations.isEmpty() ? 0 : migrations.getLast().version();
    }

    /** SQLite's {@link #migrate(Connection, Dialect, List)}. */
    static int migrate(Connection conn, List<Migration> migrations) throws SQLException {
        return migrate(conn, Dialect.SQLITE, migrations);
    }

    /**
     * Brings the database up to the latest version, one transaction per migration, and returns the version it ended
     * at. Refuses a database written by a newer build rather than guess at a schema it does not know. The statements
     * are SQLite's; the dialect translates them ({@link Dialect#ddl}).
     */
    static int migrate(Connection conn, Dialect dialect, List<Migration> migrations) throws SQLException {
        for (int i = 0; i < migrations.size(); i++) {
            if (migrations.get(i).version() != i + 1) {
                throw new IllegalArgumentException("migrations must be numbered 1, 2, 3, ... in order");
            }
        }
        int latest = latestVersion(migrations);
        try (Statement st = conn.createStatement()) {
            int current = dialect.schemaVersion(st);
            if (current > latest) {
                throw new IllegalStateException("the database is at schema version " + current
                        + " but this build knows only up to " + latest + "; use a newer pairwise");
            }
            for (Migration m : migrations.subList(current, migrations.size())) {
                // The write lock first (SQLite: IMMEDIATE; PostgreSQL: an advisory lock), so two processes opening a
                // fresh database cannot both migrate.
                st.execute(dialect.beginWrite());
                try {
                    dialect.lockSchema(st);
                    if (dialect.schemaVersion(st) >= m.version()) {
                        st.execute("ROLLBACK");
                        continue;
                    }
                    for (String sql : m.statements()) {
                        st.execute(dialect.ddl(sql));
                    }
                    dialect.setSchemaVersion(st, m.version());
                    st.execute("COMMIT");
                } catch (SQLException | RuntimeException e) {
                    try {
                        st.execute("ROLLBACK");
                    } catch (SQLException rollbackFailure) {
                        e.addSuppressed(rollbackFailure);
                    }
                    throw e;
                }
            }
            return dialect.schemaVersion(st);
        }
    }

    static int userVersion(Statement st) throws SQLException {
        return Dialect.SQLITE.schemaVersion(st);
    }
}
