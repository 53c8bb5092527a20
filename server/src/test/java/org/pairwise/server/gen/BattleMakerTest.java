package org.pairwise.server.gen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.model.DemoModel;
import org.pairwise.model.Engine;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.model.lora.LoraConfig;
import org.pairwise.model.sample.SamplingParams;
import org.pairwise.server.gen.PairGenerator.PromptInput;
import org.pairwise.server.store.PreferenceStore.BattleVote;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.PreferenceStore.VoteRequest;
import org.pairwise.server.store.SqlitePreferenceStore;
import org.pairwise.server.train.PublishedPolicies;

/**
 * Battles on the demo model with real adapter directories (v1, v2 on disk, v1 pinned): the served version meets v0
 * half the time and another kept version otherwise, on a random side, each battle stored with both versions; no
 * battle without a second version, at eval_fraction 0, or when the opponent was pruned.
 */
class BattleMakerTest {
    @TempDir
    Path dir;

    @Test
    void theServedVersionMeetsTheReferenceHalfTheTimeOnARandomSide() throws Exception {
        try (Engine engine = Engine.open(DemoModel.SPEC, null, "cpu", 1);
             SqlitePreferenceStore store = new SqlitePreferenceStore(dir.resolve("p.db"), 10_000)) {
            LoraAdapter a = LoraAdapter.create(new LoraConfig(2, 4, LoraConfig.ALL_TARGETS, 0, false, "test"),
                    engine.config(), engine.backend(), 3);
            PublishedPolicies policies = new PublishedPolicies(dir.resolve("policy"), null, 5);
            policies.save(a, engine.backend(), 1);
            policies.save(a, engine.backend(), 2);
            BattleMaker.Versions versions = BattleMaker.Versions.of(policies::kept, policies::existing);
            SamplingParams params = new SamplingParams(4, 1.0, 1.0, 0, 9);
            long promptId = store.addPrompt("test", "hello", null).join();
            PromptInput input = PromptInput.text("hello");
            var prompt = new ActivePrompts.Active(promptId, input, engine.encodePrompt("hello"));

            BattleMaker maker = new BattleMaker(engine.model(), engine.tokenizer(), engine.backend(), store, versions,
                    1.0, params, 5);
            int n = 200;
            Map<Integer, Integer> opponents = new TreeMap<>();
            int servedOnA = 0;
            for (int i = 0; i < n; i++) {
                PairPool.ServedPair p = maker.maybe(prompt, 2, 1);
                assertEquals(2, p.policyVersion(), "the annotator's pair names the served version only");
                store.recordVote(new VoteRequest(p.pairId(), Choice.A, "judge", null, null)).join();
            }
            for (BattleVote v : store.battleVotes(false).join()) {
                boolean aServed = v.aPolicyVersion() == 2;
                assertTrue(aServed != (v.bPolicyVersion() == 2), "one side is the served version: " + v);
                servedOnA += aServed ? 1 : 0;
                opponents.merge(aServed ? v.bPolicyVersion() : v.aPolicyVersion(), 1, Integer::sum);
            }
            assertEquals(List.of(0, 1), List.copyOf(opponents.keySet()));
            // Binomial(200, 1/2): 100 ± 10; 60..140 is four standard deviations each way.
            assertTrue(opponents.get(0) > 60 && opponents.get(0) < 140, opponents.toString());
            assertTrue(servedOnA > 60 && servedOnA < 140, "served on side A " + servedOnA + " of " + n);

            assertNull(new BattleMaker(engine.model(), engine.tokenizer(), engine.backend(), store, versions, 0,
                    params, 5).maybe(prompt, 2, 1), "eval_fraction 0: no battles");
            BattleMaker.Versions onlyV0 = BattleMaker.Versions.of(() -> List.of(0), v -> null);
            assertNull(new BattleMaker(engine.model(), engine.tokenizer(), engine.backend(), store, onlyV0, 1.0,
                    params, 5).maybe(prompt, 0, 1), "one version: nothing to battle");
            // v7 and v8 were listed a moment ago and deleted since: no directory.
            BattleMaker.Versions pruned = BattleMaker.Versions.of(() -> List.of(0, 7, 8), v -> null);
            assertNull(new BattleMaker(engine.model(), engine.tokenizer(), engine.backend(), store, pruned, 1.0,
                    params, 5).maybe(prompt, 8, 1), "a pruned version gives no battle");
        }
    }
}
