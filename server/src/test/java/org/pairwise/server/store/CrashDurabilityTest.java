package org.pairwise.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

@ParameterizedClass
@EnumSource(StoreKind.class)
class CrashDurabilityTest extends StoreContract {

    @Test
    void everyAcknowledgedVoteSurvivesSigkill() throws Exception {
        String spec = switch (db.location()) {
            case StoreLocation.SqliteFile f -> "sqlite:" + f.file();
            case StoreLocation.PostgresDatabase d -> db.pg().url(d.database());
        };
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(List.of(java.toString(), "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), CrashingVoter.class.getName(), spec))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        Set<Long> acknowledged = new HashSet<>();
        try (BufferedReader out = new BufferedReader(
                new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            String line;
            while (acknowledged.size() < 2000 && System.nanoTime() < deadline && (line = out.readLine()) != null) {
                if (line.startsWith("ACK ")) {
                    acknowledged.add(Long.parseLong(line.substring(4)));
                }
            }
            // SIGKILL: no shutdown hooks, no close(), votes still in flight. Acks still in the pipe go unread
            // (destroy closes it); the check below needs only that every ack read was stored.
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        } finally {
            child.destroyForcibly();
        }
        assertTrue(acknowledged.size() >= 2000, "the child acknowledged only " + acknowledged.size() + " votes");

        try (var store = db.open(16); Connection c = db.jdbc(); Statement st = c.createStatement()) {
            if (kind == StoreKind.SQLITE) {
                try (ResultSet rs = st.executeQuery("PRAGMA integrity_check")) {
                    rs.next();
                    assertEquals("ok", rs.getString(1));
                }
            }
            Set<Long> stored = new HashSet<>();
            try (ResultSet rs = st.executeQuery("SELECT id FROM preferences")) {
                while (rs.next()) {
                    stored.add(rs.getLong(1));
                }
            }
            Set<Long> lost = new HashSet<>(acknowledged);
            lost.removeAll(stored);
            assertEquals(Set.of(), lost, "acknowledged but not stored");
            // Exactly once: each vote the child sent carries its own idempotency key.
            assertEquals(stored.size(), db.count("SELECT COUNT(DISTINCT idempotency_key) FROM preferences"));
            System.out.printf("crash (%s): %d votes acknowledged before SIGKILL, %d stored%n", kind,
                    acknowledged.size(), stored.size());
            assertEquals(stored.size(), store.stats().join().votes());
        }
    }
}
