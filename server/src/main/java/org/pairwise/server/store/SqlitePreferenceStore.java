package org.pairwise.server.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The embedded preference store: one SQLite file in WAL mode, synchronous=FULL (a commit is fsynced). The writer's
 * auto-checkpoint is off; a {@link WalCheckpointer} folds the WAL into the file off the writer's path. The file is an
 * ordinary SQLite database: {@code sqlite3 data/pairwise.db} opens it.
 */
public final class SqlitePreferenceStore extends JdbcPreferenceStore {

    /**
     * Caps on the files: {@code maxPages} on the database (SQLite's max_page_count, 0: none; past it writes fail as
     * on a full disk) and the size past which the WAL is checkpointed and truncated even under load.
     */
    public record Limits(long maxPages, long walBytes) {
        public static final Limits DEFAULT = new Limits(0, Sqlite.JOURNAL_SIZE_LIMIT);

        public Limits {
            if (maxPages < 0 || walBytes < 1) {
                throw new IllegalArgumentException("maxPages must be >= 0 and walBytes >= 1");
            }
        }
    }

    private final Path file;
    private final WalCheckpointer checkpointer;

    /** Creates the parent folder and the file if needed, and brings the schema up to date. */
    public SqlitePreferenceStore(Path dbFile, int writeQueueCapacity) {
        this(dbFile, writeQueueCapacity, Limits.DEFAULT);
    }

    /**
     * Like {@link #SqlitePreferenceStore(Path, int)}. On a disk too full to open the file for writing (a start after a
     * clean stop needs room for the WAL's index) the store still opens when the schema is current: reads work, writes
     * fail with {@link StoreUnavailableException} until there is room again, then resume by themselves.
     */
    public SqlitePreferenceStore(Path dbFile, int writeQueueCapacity, Limits limits) {
        Path file = dbFile.toAbsolutePath();
        Sqlite.Writer db = new Sqlite.Writer(file, limits.maxPages());
        ReadPool.Connector connector = () -> Sqlite.openReader(file);
        Connection conn = openAndMigrate(file, db);
        ReadPool readers = new ReadPool(connector, READ_THREADS, "pairwise-store-read-");
        GroupCommitWriter writer = new GroupCommitWriter(db, conn, "pairwise-store-writer", writeQueueCapacity,
                MAX_BATCH);
        super(writer, readers, connector);
        this.file = file;
        this.checkpointer = new WalCheckpointer(file, limits.walBytes(), readers, writer);
    }

    /** The writer's first connection, migrated; null when the disk is full and the schema already current. */
    private static Connection openAndMigrate(Path file, Sqlite.Writer db) {
        Connection conn = null;
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            conn = db.open();
            Migrations.migrate(conn, Migrations.ALL);
            return conn;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the folder for " + file, e);
        } catch (SQLException | RuntimeException e) {
            closeQuietly(conn);
            if (!(e instanceof SQLException sql && Sqlite.isDiskFull(sql) && schemaIsCurrent(file))) {
                throw new StoreException("cannot open the preference store " + file + ": " + e.getMessage(), e);
            }
            return null;
        }
    }

    /** Whether the file (read without writing anything) is at this build's schema: then no migration must run. */
    private static boolean schemaIsCurrent(Path file) {
        try (Connection c = Sqlite.openReader(file).conn(); Statement st = c.createStatement()) {
            return Migrations.userVersion(st) == Migrations.latestVersion(Migrations.ALL);
        } catch (SQLException e) {
            return false;
        }
    }

    public Path file() {
        return file;
    }

    @Override
    void closeMaintenance() {
        checkpointer.close();
    }
}
