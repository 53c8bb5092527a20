package org.pairwise.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.server.store.Migrations.Migration;

class MigrationsTest {
    /** This build's schema version: tests name versions relative to it, so appending a migration breaks none. */
    static final int LATEST = Migrations.latestVersion(Migrations.ALL);

    @TempDir
    Path dir;

    @Test
    void freshFileGetsTheWholeSchemaInWalMode() throws Exception {
        Path file = dir.resolve("nested/data/pairwise.db");
        new SqlitePreferenceStore(file, 16).close();
        assertTrue(Files.exists(file));
        try (Connection c = Fixtures.jdbc(file); Statement st = c.createStatement()) {
            assertEquals(LATEST, Migrations.userVersion(st));
            assertEquals("wal", scalar(st, "PRAGMA journal_mode"));
            Set<String> tables = new TreeSet<>();
            try (ResultSet rs = st.executeQuery("SELECT name FROM sqlite_master WHERE type = 'table'")) {
                while (rs.next()) {
                    tables.add(rs.getString(1));
                }
            }
            assertTrue(tables.containsAll(Set.of("prompts", "pairs", "preferences", "trainer_checkpoints",
                            "annotators", "invites", "sessions", "guidelines")),
                    tables::toString);
            assertEquals("1", scalar(st,
                    "SELECT COUNT(*) FROM sqlite_master WHERE name = 'preferences_annotator_pair'"));
        }
    }

    @Test
    void writerConnectionIsDurableAndEnforcesForeignKeys() throws Exception {
        Path file = dir.resolve("p.db");
        new SqlitePreferenceStore(file, 16).close();
        try (Connection c = Sqlite.openWriter(file); Statement st = c.createStatement()) {
            assertEquals("2", scalar(st, "PRAGMA synchronous")); // 2 = FULL
            assertEquals("1", scalar(st, "PRAGMA foreign_keys"));
            assertEquals(String.valueOf(Sqlite.BUSY_TIMEOUT_MS), scalar(st, "PRAGMA busy_timeout"));
        }
    }

    @Test
    void reopeningKeepsTheDataAndDoesNotMigrateAgain() throws Exception {
        Path file = dir.resolve("p.db");
        try (var store = new SqlitePreferenceStore(file, 16)) {
            store.addPrompt("seed", "hello", null).join();
        }
        try (var store = new SqlitePreferenceStore(file, 16)) {
            assertEquals(List.of("hello"), store.prompts(10).join().stream().map(p -> p.text()).toList());
            store.addPrompt("seed", "again", null).join();
        }
        assertEquals(2, Fixtures.count(file, "SELECT COUNT(*) FROM prompts"));
        assertEquals(LATEST, Fixtures.count(file, "PRAGMA user_version"));
    }

    @Test
    void anAppendedMigrationRunsOnceOnAnExistingFile() throws Exception {
        Path file = dir.resolve("p.db");
        try (var store = new SqlitePreferenceStore(file, 16)) {
            store.addPrompt("seed", "kept", null).join();
        }
        List<Migration> withTwo = new ArrayList<>(Migrations.ALL);
        withTwo.add(new Migration(LATEST + 1, "prompt language", List.of("ALTER TABLE prompts ADD COLUMN lang TEXT")));
        try (Connection c = Sqlite.openWriter(file)) {
            assertEquals(LATEST + 1, Migrations.migrate(c, withTwo));
            // Again: adding the column twice would fail, so this proves the new version is skipped now.
            assertEquals(LATEST + 1, Migrations.migrate(c, withTwo));
        }
        assertEquals(1, Fixtures.count(file, "SELECT COUNT(*) FROM prompts WHERE text = 'kept' AND lang IS NULL"));
        // This build knows only up to LATEST: it must refuse the newer file rather than write to it.
        StoreException e = assertThrows(StoreException.class, () -> new SqlitePreferenceStore(file, 16));
        assertTrue(e.getMessage().contains("schema version " + (LATEST + 1)), e.getMessage());
    }

    @Test
    void aFailingMigrationLeavesTheFileAtThePreviousVersion() throws Exception {
        Path file = dir.resolve("p.db");
        new SqlitePreferenceStore(file, 16).close();
        List<Migration> broken = new ArrayList<>(Migrations.ALL);
        broken.add(new Migration(LATEST + 1, "half done", List.of("CREATE TABLE extra (x INTEGER)", "THIS IS NOT SQL")));
        try (Connection c = Sqlite.openWriter(file)) {
            assertThrows(SQLException.class, () -> Migrations.migrate(c, broken));
        }
        assertEquals(LATEST, Fixtures.count(file, "PRAGMA user_version"));
        assertEquals(0, Fixtures.count(file, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'extra'"));
    }

    private static String scalar(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
