package org.pairwise.server.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.model.Engine;
import org.pairwise.model.SharedModels;
import org.pairwise.model.engine.SequenceScorer;
import org.pairwise.model.sample.SamplingParams;
import org.pairwise.server.gen.PairGenerator;
import org.pairwise.server.gen.PairGenerator.GeneratedPair;
import org.pairwise.server.gen.PairGenerator.PromptInput;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.PreferenceStore.PairRecord;
import org.pairwise.server.store.PreferenceStore.VoteRequest;
import org.pairwise.server.store.SqlitePreferenceStore;

/**
 * The guard's two tests on a real SQLite store, with pairs the real generator sampled from stories260K (the demo
 * model without it) at temperature 1. KL: the reference (the base model) scores the samples; for pairs the base
 * model sampled itself the estimate is 0 up to float rounding (the generator's recorded log-probs and the scorer's
 * agree), and for the same samples recorded with log-probs 0.25 nats per token higher it is 0.25 times the mean
 * response length (standard error 0.25 times the lengths'), as the estimator's arithmetic says; max_kl just below
 * its 95% lower bound trips the guard, just above it does not.
 * Battles: 0 wins in 10 against the previous version has a Wilson upper bound 0.28, below 0.5: it trips; 5 of 10
 * does not.
 */
class PolicyGuardTest {
    @TempDir
    static Path dir;
    static Engine engine;
    static SqlitePreferenceStore store;
    static long prompt;
    static double meanTokens;
    /** The standard error of 0.25 × length over the 12 responses: the shifted estimate's, up to float rounding. */
    static double shiftedSe;

    @BeforeAll
    static void sample() throws Exception {
        String model = SharedModels.find("stories260K/stories260K.gguf").map(Path::toString).orElse("demo");
        engine = Engine.open(model, null, "cpu", 1);
        store = new SqlitePreferenceStore(dir.resolve("p.db"), 10_000);
        prompt = store.addPrompt("test", "Once upon a time", null).join();
        PairGenerator gen = new PairGenerator(engine, engine.model(), new SamplingParams(24, 1.0, 1.0, 0, 5), null, 0);
        double[] k = new double[12];
        for (int i = 0; i < 6; i++) {
            GeneratedPair g = gen.generate(PromptInput.text("Once upon a time"), null, null);
            store.addPair(record(g, 1, 0f), 1).join();
            store.addPair(record(g, 2, 0.25f), 1).join();
            k[2 * i] = 0.25 * g.first().tokenIds().length;
            k[2 * i + 1] = 0.25 * g.second().tokenIds().length;
        }
        double mean = java.util.Arrays.stream(k).average().orElseThrow(), ss = 0;
        for (double x : k) {
            ss += (x - mean) * (x - mean);
        }
        meanTokens = mean / 0.25;
        shiftedSe = Math.sqrt(ss / 11 / 12);
    }

    @AfterAll
    static void close() {
        store.close();
        engine.close();
    }

    /** The pair as version {@code version} would have stored it, each token's recorded log-prob raised by shift. */
    static PairRecord record(GeneratedPair g, int version, float shift) {
        float[] a = g.first().logprobs().clone(), b = g.second().logprobs().clone();
        for (int i = 0; i < a.length; i++) {
            a[i] += shift;
        }
        for (int i = 0; i < b.length; i++) {
            b[i] += shift;
        }
        return new PairRecord(UUID.randomUUID().toString(), prompt, "Once upon a time", g.promptIds(),
                g.first().text(), g.first().tokenIds(), a, g.first().finishReason(), g.second().text(),
                g.second().tokenIds(), b, g.second().finishReason(), true, version, "{}", 0);
    }

    static PolicyGuard guard(double maxKl, double minWinRate) throws IOException {
        return guard(maxKl, minWinRate, PolicyGuard.HoldRecord.inMemory());
    }

    static PolicyGuard guard(double maxKl, double minWinRate, PolicyGuard.HoldRecord record) throws IOException {
        return new PolicyGuard(new PolicyGuard.Settings(maxKl, 6, minWinRate, true), store,
                new SequenceScorer(engine.model(), 4096), null, record);
    }

    @Test
    void theKlOfTheBaseAgainstItselfIsZeroAndAShiftOfQuarterNatsPerTokenIsMeasuredExactly() throws Exception {
        PolicyGuard g = guard(1e9, 0);
        assertNull(g.check(1, List.of(0, 1)));
        assertEquals(0, g.klHistory().getJsonObject(0).getDouble("kl"), 1e-3, g.klHistory().encode());
        assertEquals(12, g.klHistory().getJsonObject(0).getInteger("responses"));
        assertNull(g.check(2, List.of(0, 1, 2)));
        assertEquals(0.25 * meanTokens, g.klHistory().getJsonObject(1).getDouble("kl"), 1e-3);
        assertEquals(shiftedSe, g.klHistory().getJsonObject(1).getDouble("standard_error"), 1e-3);
        assertNull(g.check(2, List.of(0, 1, 2)), "a version is measured once");
        assertEquals(2, g.klHistory().size());
        // Served v3 has no pairs yet: the newest version before it with enough pairs is measured instead.
        PolicyGuard fresh = guard(1e9, 0);
        assertNull(fresh.check(3, List.of(0, 1, 2, 3)));
        assertEquals(2, fresh.klHistory().getJsonObject(0).getInteger("policy_version"));
    }

    @Test
    void klAboveMaxKlWithConfidenceTripsTheGuardAndNamesTheVersionToServe() throws Exception {
        double low = 0.25 * meanTokens - 1.959963984540054 * shiftedSe;
        assertNull(guard(low + 0.01, 0).check(2, List.of(0, 1, 2)), "the lower bound is below max_kl");
        PolicyGuard g = guard(low - 0.01, 0);
        PolicyGuard.Hold h = g.check(2, List.of(0, 1, 2));
        assertNotNull(h);
        assertEquals(1, h.serving());
        assertTrue(h.reason().startsWith("KL guard: policy v2"), h.reason());
        assertEquals("held", g.status().getString("publishing"));
        assertNull(g.check(2, List.of(0, 1, 2)), "while held the guard does not look again");
        assertTrue(g.release());
        assertEquals("on", g.status().getString("publishing"));
    }

    @Test
    void aVersionThatLosesToThePreviousOneWithConfidenceTripsTheBattleGuard() throws Exception {
        // v4 against v3, sides alternating: first 5 of 10 for v4 (no trip), then 0 of 10 in a second matchup, v6 vs v5.
        for (int i = 0; i < 10; i++) {
            battle(i % 2 == 0 ? 4 : 3, i % 2 == 0 ? 3 : 4, i < 5 == (i % 2 == 0) ? Choice.A : Choice.B);
            battle(i % 2 == 0 ? 6 : 5, i % 2 == 0 ? 5 : 6, i % 2 == 0 ? Choice.B : Choice.A);
        }
        battle(6, 5, Choice.TIE);  // ties are left out of the guard's rate
        assertNull(guard(0, 0.5).check(4, List.of(0, 3, 4)), "5 of 10: not worse with confidence");
        PolicyGuard.Hold h = guard(0, 0.5).check(6, List.of(0, 5, 6));
        assertNotNull(h);
        assertEquals(5, h.serving());
        assertTrue(h.reason().contains("won 0 of 10 battles against v5"), h.reason());
        assertTrue(h.reason().contains("0.28"), h.reason());
    }

    @Test
    void aHoldOutlivesTheGuardInHoldJsonAndAReleaseRemovesIt() throws Exception {
        Path root = dir.resolve("policy-hold");
        PublishedPolicies policies = new PublishedPolicies(root, null, 5);
        double low = 0.25 * meanTokens - 1.959963984540054 * shiftedSe;
        PolicyGuard tripped = guard(low - 0.01, 0, policies.holdRecord());
        PolicyGuard.Hold h = tripped.check(2, List.of(0, 1, 2));
        assertNotNull(h);
        assertTrue(java.nio.file.Files.isRegularFile(root.resolve("hold.json")));

        // A new process: the guard it builds over the same directory holds publishing for the same reason.
        PolicyGuard restarted = guard(low - 0.01, 0, new PublishedPolicies(root, null, 5).holdRecord());
        assertEquals(h, restarted.holding());
        assertEquals("held", restarted.status().getString("publishing"));
        assertNull(restarted.check(2, List.of(0, 1, 2)), "while held the guard does not look again");

        assertTrue(restarted.release());
        assertFalse(java.nio.file.Files.exists(root.resolve("hold.json")));
        assertNull(guard(low - 0.01, 0, policies.holdRecord()).holding(), "released for good");

        // A rollback's hold is kept the same way.
        restarted.hold("rolled back to v1 by the admin", 1);
        assertEquals(1, guard(0, 0, policies.holdRecord()).holding().serving());
    }

    @Test
    void aHoldFileThatIsNotJsonStopsTheStartWithWhatToDo() throws Exception {
        Path root = dir.resolve("policy-bad");
        java.nio.file.Files.createDirectories(root);
        java.nio.file.Files.writeString(root.resolve("hold.json"), "{\"reason\": ");
        var e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                () -> guard(0, 0, new PublishedPolicies(root, null, 5).holdRecord()));
        assertTrue(e.getMessage().endsWith("is not the JSON of a hold (fix it, or delete it to let publishing go on)"),
                e.getMessage());
    }

    static void battle(int aVersion, int bVersion, Choice c) {
        String id = UUID.randomUUID().toString();
        store.addBattlePair(new PairRecord(id, prompt, "p", new int[] {1}, "a", new int[] {2}, new float[] {-1f}, "eos",
                "b", new int[] {3}, new float[] {-1f}, "eos", true, Math.max(aVersion, bVersion), "{}", 0), 1, aVersion,
                bVersion).join();
        store.recordVote(new VoteRequest(id, c, "judge-" + id, null, null)).join();
    }
}
