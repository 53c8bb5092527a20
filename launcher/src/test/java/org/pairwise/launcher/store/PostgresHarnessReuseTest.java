package org.pairwise.launcher.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import org.junit.jupiter.api.Test;
import org.pairwise.server.store.pg.PostgresHarness;

/** The server's PostgreSQL harness works from this module's tests (through the server test-jar and the driver). */
class PostgresHarnessReuseTest {

    @Test
    void theServerHarnessStartsAServerForLauncherTests() throws Exception {
        PostgresHarness.assumeAvailable();
        Path dir;
        try (PostgresHarness pg = PostgresHarness.start(); Connection c = pg.connect();
             ResultSet rs = c.createStatement().executeQuery("SELECT current_setting('server_version_num')::int")) {
            dir = pg.directory();
            assertTrue(rs.next());
            assertTrue(rs.getInt(1) >= 100000, "a PostgreSQL 10 or newer, got " + rs.getInt(1));
            assertEquals("pairwise", c.getMetaData().getUserName());
        }
        assertFalse(Files.exists(dir));
    }
}
