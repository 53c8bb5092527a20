package org.pairwise.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.config.ConfigException;
import org.pairwise.server.config.ServeConfig;
import org.pairwise.server.store.StoreLocation.PostgresDatabase;
import org.pairwise.server.store.StoreLocation.SqliteFile;

/** --store: both forms, where a password comes from, and that no message or printout ever holds it. */
class StoreLocationTest {
    @TempDir
    Path dir;

    @Test
    void theDefaultIsTheFileInTheDataDirAndSqliteTakesAPath() {
        assertEquals(new SqliteFile(Path.of("d/pairwise.db")), StoreLocation.parse(null, Path.of("d")));
        assertEquals(new SqliteFile(Path.of("/x/y.db")), StoreLocation.parse("sqlite:/x/y.db", Path.of("d")));
    }

    @Test
    void aPostgresUrlGivesEachPartDecodedAndPrintsWithoutItsPassword() {
        var pg = (PostgresDatabase) StoreLocation.parse("postgresql://ann:p%40ss%3Aw0rd@db.example:6543/votes"
                + "?sslmode=require", Path.of("d"));
        assertEquals(new PostgresDatabase("db.example", 6543, "votes", "ann", "p@ss:w0rd", "sslmode=require"), pg);
        assertEquals("jdbc:postgresql://db.example:6543/votes?sslmode=require", pg.jdbcUrl());
        assertEquals("postgresql://ann@db.example:6543/votes", pg.toString());
        var v6 = (PostgresDatabase) StoreLocation.parse("postgres://[::1]/v", Path.of("d"));
        assertEquals("::1", v6.host());
        assertEquals(5432, v6.port());
        assertNull(v6.user());
        assertEquals("jdbc:postgresql://[::1]:5432/v", v6.jdbcUrl());
    }

    @Test
    void thePasswordComesFromTheUrlThenTheFileThenPgpassword() throws Exception {
        Path file = Files.writeString(dir.resolve("pw"), "from-file\nignored\n");
        String url = "postgresql://ann@h/db";
        assertEquals("from-env", pw(StoreLocation.parse(url, dir, null, "from-env")));
        assertEquals("from-file", pw(StoreLocation.parse(url, dir, file, "from-env")));
        assertEquals("own", pw(StoreLocation.parse("postgresql://ann:own@h/db", dir, file, "from-env")));
        assertNull(pw(StoreLocation.parse(url, dir, null, null)));
    }

    @Test
    void aBadStoreIsOneReadableConfigErrorThatNeverQuotesThePassword() {
        for (String bad : new String[] {"mysql://u:s3cret@h/db", "postgresql://u:s3cret@h", "postgresql://u:s3cret@/db",
            "postgresql://u:s3cret@h/db/extra", "postgresql://u:s3cret@h/db#frag", "postgresql://u:s3cr et@h/db",
            "sqlite:"}) {
            ConfigException e = assertThrows(ConfigException.class, () -> ServeConfig.defaults().withOverrides(
                    Map.of("store", bad)), bad);
            assertTrue(e.getMessage().startsWith("store: "), e.getMessage());
            assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
        var cfg = ServeConfig.defaults().withOverrides(Map.of("store", "postgresql://u@h/db",
                "store_password_file", dir.resolve("missing").toString()));
        ConfigException e = assertThrows(ConfigException.class, () -> cfg.storeLocation(null));
        assertTrue(e.getMessage().startsWith("store_password_file: cannot read "), e.getMessage());
    }

    private static String pw(StoreLocation at) {
        return ((PostgresDatabase) at).password();
    }
}
