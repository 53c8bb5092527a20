package org.pairwise.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

class SchemaTest {
    enum Mode {
        FAST, SLOW;

        @Override
        public String toString() {
            return name().toLowerCase();
        }
    }

    record Optimizer(double beta, int batchSize) {
        Optimizer {
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch_size: must be >= 1, got " + batchSize);
            }
        }
    }

    record Job(String name, int steps, double rate, boolean verbose, List<String> tags, Integer limit, Mode mode,
               Optimizer optimizer) {}

    static final Schema<Optimizer> OPTIMIZER = Schema.of(Optimizer.class, "Optimizer settings").fields(
            Field.of("beta", Type.DOUBLE, 0.1, "how far the policy may move").trl("DPOConfig"),
            Field.of("batch_size", Type.INT, 8, "pairs per step")).build();

    static final Schema<Job> JOB = Schema.of(Job.class, "Job settings").fields(
            Field.of("name", Type.STRING, "job", "what to call it"),
            Field.of("steps", Type.INT, 10, "how many steps"),
            Field.of("rate", Type.DOUBLE, 1e-6, "the learning rate"),
            Field.of("verbose", Type.BOOLEAN, false, "say more").withNegation(),
            Field.of("tags", Type.listOf(Type.STRING), List.of("a", "b"), "labels"),
            Field.of("limit", Type.INT, null, "at most this many (none: no limit)").allowingNull(),
            Field.of("mode", Type.choice(Mode.class), Mode.FAST, "how to run"))
            .nest(OPTIMIZER.withDefaults("Optimizer settings (the job's defaults)", Map.of("batch_size", 4)))
            .alias("bs", "batch_size").build();

    @TempDir
    Path dir;

    @Test
    void defaultsThenFileThenEnvironmentThenFlags() throws Exception {
        Path yaml = Files.writeString(dir.resolve("job.yaml"), """
                name: from-file
                steps: 20
                rate: 1e-5     # YAML 1.1 reads this as a string; it is a number all the same
                tags: [x, y, z]
                beta: 0.3
                limit: 7
                """);
        Map<String, String> env = Map.of("PAIRWISE_STEPS", "30", "PAIRWISE_BETA", "0.4", "PAIRWISE_BS", "2",
                "PAIRWISE_MODE", "slow", "PAIRWISE_UNRELATED", "ignored", "HOME", "/root");
        Job j = JOB.load(yaml, env, Map.of("steps", "40", "limit", "none", "verbose", "yes"));
        assertEquals("from-file", j.name());           // file over default
        assertEquals(40, j.steps());                   // flag over environment over file
        assertEquals(1e-5, j.rate());                  // file over default
        assertEquals(List.of("x", "y", "z"), j.tags());
        assertEquals(0.4, j.optimizer().beta());       // environment over file, nested field
        assertEquals(2, j.optimizer().batchSize());    // an alias, from the environment
        assertEquals(Mode.SLOW, j.mode());
        assertNull(j.limit());                         // a flag unsets a field the file set
        assertTrue(j.verbose());

        Job d = JOB.defaults();
        assertEquals(new Job("job", 10, 1e-6, false, List.of("a", "b"), null, Mode.FAST, new Optimizer(0.1, 4)), d);
        assertEquals(d, JOB.load(null, Map.of(), Map.of()));
        Path json = Files.writeString(dir.resolve("job.json"), "{\"steps\": 5, \"tags\": \"solo\"}");
        assertEquals(new Job("job", 5, 1e-6, false, List.of("solo"), null, Mode.FAST, new Optimizer(0.1, 4)),
                JOB.withFile(d, json));
    }

    @Test
    void unknownNamesAreNamedAndNearOnesSuggested() throws Exception {
        Path f = Files.writeString(dir.resolve("bad.json"), "{\"steps\": 3, \"stpes\": 4}");
        assertMessage(() -> JOB.withFile(JOB.defaults(), f), f + ": unknown key 'stpes' (did you mean 'steps'?)");
        assertMessage(() -> JOB.with(JOB.defaults(), Map.of("colour", "red")), "unknown option 'colour'");
        assertMessage(() -> JOB.with(JOB.defaults(), Map.of("batch-sise", "2")),
                "unknown option 'batch-sise' (did you mean 'batch-size'?)");
    }

    @Test
    void wrongTypesNameTheFieldAndTheExpectedType() throws Exception {
        Job d = JOB.defaults();
        assertMessage(() -> JOB.with(d, Map.of("rate", "fast")), "rate: 'fast' is not a number");
        assertMessage(() -> JOB.with(d, Map.of("steps", "2.5")), "steps: '2.5' is not a whole number");
        assertMessage(() -> JOB.with(d, Map.of("verbose", "maybe")), "verbose: 'maybe' is not a boolean");
        assertMessage(() -> JOB.with(d, Map.of("mode", "medium")),
                "mode: unknown 'medium' (expected one of fast, slow)");
        assertMessage(() -> JOB.with(d, Map.of("steps", "none")), "steps: 'none' is not a whole number");
        assertMessage(() -> JOB.withEnv(d, Map.of("PAIRWISE_BETA", "high")), "PAIRWISE_BETA: beta: 'high' is not");
        Path f = Files.writeString(dir.resolve("bad.yaml"), "steps: [1, 2]\n");
        assertMessage(() -> JOB.withFile(d, f), "bad.yaml: steps: expected one value (N), got a list");
        Path g = Files.writeString(dir.resolve("bad2.json"), "{\"name\": null}");
        assertMessage(() -> JOB.withFile(d, g), "name: must be set");
        Path h = Files.writeString(dir.resolve("bad3.json"), "{\"tags\": {\"a\": 1}}");
        assertMessage(() -> JOB.withFile(d, h), "tags: expected a list (TEXT,...), got a mapping");
        // The record's own checks fail as ConfigException too, with the record's message.
        ConfigException e = assertThrows(ConfigException.class, () -> JOB.with(d, Map.of("bs", "0")));
        assertEquals("batch_size: must be >= 1, got 0", e.getMessage());
    }

    @Test
    void helpListsEveryFieldWithItsDefault() {
        String help = JOB.help();
        for (Field<?> f : JOB.fields()) {
            assertTrue(help.contains(f.flag()), "help lacks " + f.flag() + ":\n" + help);
        }
        for (String line : List.of("--rate X\n      The learning rate. Default: 1e-6.",
                "--tags TEXT,...\n      Labels. Default: a,b.", "--limit N\n      At most this many (none: no limit). "
                        + "Default: none.", "--mode NAME\n      How to run. Default: fast.",
                "--batch-size, --bs N\n      Pairs per step. Default: 4.",
                "--beta X\n      How far the policy may move. Default: 0.1. From TRL's DPOConfig.",
                "Optimizer settings (the job's defaults):\n")) {
            assertTrue(help.contains(line), "help lacks '" + line + "':\n" + help);
        }
        assertEquals(9, JOB.fields().size());
    }

    @Test
    void jsonRoundTripsEveryType() {
        Job j = JOB.with(JOB.defaults(), Map.of("name", "n", "tags", "[\"p\", 'q']", "limit", "3", "mode", "slow",
                "beta", "0.25", "verbose", "true"));
        String json = JOB.toJson(j);
        assertTrue(json.contains("\"tags\" : [ \"p\", \"q\" ]"), json);
        assertTrue(json.contains("\"mode\" : \"slow\""), json);
        assertEquals(j, JOB.fromJson(json));
        assertEquals(JOB.defaults(), JOB.fromJson(JOB.toJson(JOB.defaults())));
    }

    record Mismatch(int steps, String other) {}

    @Test
    void aSchemaThatDoesNotMatchItsRecordFailsAtOnce() {
        assertThrows(IllegalStateException.class, () -> Schema.of(Mismatch.class, "x").fields(
                Field.of("steps", Type.INT, 1, "s"), Field.of("another", Type.STRING, "o", "o")).build());
        assertThrows(IllegalStateException.class, () -> Schema.of(Mismatch.class, "x").fields(
                Field.of("steps", Type.DOUBLE, 1.0, "s"), Field.of("other", Type.STRING, "o", "o")).build());
        assertThrows(IllegalStateException.class, () -> Schema.of(Mismatch.class, "x").fields(
                Field.of("steps", Type.INT, 1, "s")).build());
        assertThrows(IllegalStateException.class, () -> Schema.of(Mismatch.class, "x").fields(
                Field.of("steps", Type.INT, 1, "s"), Field.of("other", Type.STRING, null, "o")).build());
    }

    private static void assertMessage(Executable e, String fragment) {
        String msg = assertThrows(ConfigException.class, e).getMessage();
        assertTrue(msg.contains(fragment), "'" + msg + "' should contain '" + fragment + "'");
    }
}
