package org.pairwise.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.trainer.dpo.LossType;

class ServeConfigTest {
    @Test
    void defaultsServeTheDemoModelLocally() {
        ServeConfig c = ServeConfig.defaults();
        assertEquals("demo", c.model());
        assertEquals(8080, c.port());
        assertEquals("127.0.0.1", c.host());
        assertEquals("data", c.dataDir());
        assertEquals("open", c.annotation());
        assertEquals("off", c.cors());
        assertNull(c.adminToken());
        assertEquals(4, c.dpo().perDeviceTrainBatchSize());
        assertEquals(Path.of("data", "trainer_output"), c.trainerDir());
    }

    @Test
    void fileThenEnvironmentThenFlags(@TempDir Path dir) throws Exception {
        Path yaml = dir.resolve("serve.yaml");
        Files.writeString(yaml, """
                port: 9000
                beta: 0.3
                batch_size: 2
                loss_type: [sigmoid, ipo]
                annotator_tokens: ["ann:ann-token-sixteen", "ben:ben-token-sixteen"]
                temperature: 0.7
                """);
        ServeConfig c = ServeConfig.load(yaml, Map.of("PAIRWISE_PORT", "9100", "PAIRWISE_BETA", "0.2",
                "PAIRWISE_UNRELATED", "x"), Map.of("port", "0", "learning-rate", "1e-5"));
        assertEquals(0, c.port());                        // flag beats environment beats file
        assertEquals(0.2, c.dpo().beta());                // environment beats file
        assertEquals(0.7, c.temperature());               // file beats defaults
        assertEquals(2, c.dpo().perDeviceTrainBatchSize());  // batch_size is the alias
        assertEquals(1e-5, c.dpo().learningRate());
        assertEquals(List.of(LossType.SIGMOID, LossType.IPO), c.dpo().lossType());
        assertEquals(List.of("ann:ann-token-sixteen", "ben:ben-token-sixteen"), c.annotatorTokens());
    }

    @Test
    void invalidValuesNameTheirField() {
        ServeConfig d = ServeConfig.defaults();
        assertMessage("port", () -> d.withOverrides(Map.of("port", "70000")));
        assertMessage("port", () -> d.withOverrides(Map.of("port", "eighty")));
        assertMessage("annotation", () -> d.withOverrides(Map.of("annotation", "maybe")));
        assertMessage("open, token or accounts", () -> d.withOverrides(Map.of("annotation", "maybe")));
        // Accounts need no configured tokens: the admin creates the people.
        assertEquals("accounts", d.withOverrides(Map.of("annotation", "accounts")).annotation());
        assertMessage("annotator_tokens", () -> d.withOverrides(Map.of("annotation", "token")));
        assertMessage("annotator_tokens", () -> d.withOverrides(Map.of("annotator_tokens", "no-colon")));
        assertMessage("top_p", () -> d.withOverrides(Map.of("top_p", "0")));
        assertMessage("pool_size", () -> d.withOverrides(Map.of("pool-size", "0")));
        assertMessage("train_on_both_bad", () -> d.withOverrides(Map.of("train_on_both_bad", "true")));
        assertMessage("beta", () -> d.withOverrides(Map.of("beta", "x")));
        assertMessage("unknown option 'colour'", () -> d.withOverrides(Map.of("colour", "red")));
        assertMessage("admin_token", () -> d.withOverrides(Map.of("admin_token", "short")));
        assertMessage("admin_token", () -> d.withOverrides(Map.of("admin_token", "x".repeat(31))));
        assertMessage("shorter than 16", () -> d.withOverrides(Map.of("annotator_tokens", "ann:short-token")));
        assertMessage("viewer_tokens", () -> d.withOverrides(Map.of("viewer_tokens", "admin:a-long-viewer-token")));
        assertMessage("server's own", () -> d.withOverrides(Map.of("annotator_tokens",
                "anon-0123:a-long-annotator-token")));
        assertMessage("max_connections", () -> d.withOverrides(Map.of("max_connections", "0")));
        assertMessage("header_timeout_ms", () -> d.withOverrides(Map.of("header_timeout_ms", "0")));
    }

    @Test
    void campaignSettingsHaveTheirDefaultsPairViewsIsAnAliasAndBadValuesAreNamed() {
        ServeConfig d = ServeConfig.defaults();
        assertEquals(1, d.votesPerPair());
        assertEquals(600, d.leaseSeconds());
        assertEquals(10, d.undoWindow());
        assertEquals("each", d.aggregation());
        assertEquals(0.05, d.goldRate());
        assertTrue(d.excludeFlagged());
        assertEquals(new org.pairwise.server.store.PreferenceStore.Finalising(
                org.pairwise.server.store.PreferenceStore.Aggregation.EACH, 10_000, true), d.finalising());
        assertEquals(4, d.withOverrides(Map.of("pair_views", "4")).votesPerPair());
        assertEquals(3, d.withOverrides(Map.of("votes-per-pair", "3")).votesPerPair());
        assertEquals(org.pairwise.server.store.PreferenceStore.Aggregation.SOFT,
                d.withOverrides(Map.of("aggregation", "soft")).finalising().aggregation());
        assertMessage("votes_per_pair", () -> d.withOverrides(Map.of("pair_views", "0")));
        assertMessage("aggregation", () -> d.withOverrides(Map.of("aggregation", "vote")));
        assertMessage("gold_rate", () -> d.withOverrides(Map.of("gold_rate", "1.5")));
        assertMessage("undo_window", () -> d.withOverrides(Map.of("undo_window", "-1")));
        assertMessage("lease_seconds", () -> d.withOverrides(Map.of("lease_seconds", "0")));
    }

    @Test
    void everyServingFieldIsDocumented() {
        for (var c : ServeConfig.class.getRecordComponents()) {
            if (!c.getName().equals("dpo")) {
                String snake = c.getName().replaceAll("([A-Z])", "_$1").toLowerCase();
                assertTrue(ServeConfig.DOCS.containsKey(snake), "no --help line for " + snake);
            }
        }
        assertEquals(ServeConfig.class.getRecordComponents().length - 1, ServeConfig.DOCS.size());
    }

    private static void assertMessage(String part, org.junit.jupiter.api.function.Executable e) {
        var ex = assertThrows(IllegalArgumentException.class, e);
        assertTrue(ex.getMessage().contains(part), "expected '" + part + "' in: " + ex.getMessage());
    }
}
