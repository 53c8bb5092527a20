package org.pairwise.trainer.online;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.accel.Backend;
import org.pairwise.accel.DType;
import org.pairwise.accel.Tensor;
import org.pairwise.accel.cpu.CpuBackend;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.engine.LlamaModel;
import org.pairwise.model.engine.TestCheckpoints;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.trainer.config.DpoConfig;
import org.pairwise.trainer.data.PreferencePair;

class ContinualTrainerTest {
    static Backend be;

    @TempDir
    Path tmp;

    @BeforeAll
    static void open() {
        be = new CpuBackend(2);
    }

    @AfterAll
    static void close() {
        be.close();
    }

    static List<PreferencePair> votes(int n, int vocab) {
        SplittableRandom rng = new SplittableRandom(9);
        List<PreferencePair> out = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            out.add(PreferencePair.of(i, "vote " + i, rng.ints(3, 0, vocab).toArray(),
                    rng.ints(2 + i % 3, 0, vocab).toArray(), rng.ints(3, 0, vocab).toArray(), 0));
        }
        return out;
    }

    static DpoConfig config() {
        return DpoConfig.defaults().withOverrides(Map.of("learning_rate", "1e-2", "per_device_train_batch_size", "2",
                "gradient_accumulation_steps", "1", "save_steps", "1", "lora_r", "4", "lora_alpha", "8",
                "gradient_checkpointing", "false"));
    }

    @Test
    void publishesEveryNStepsAndResumesExactlyAfterTheLastTrainedVote() throws Exception {
        ModelConfig c = TestCheckpoints.llama(67, false);
        List<PreferencePair> v = votes(6, 67);
        try (Checkpoint ck = TestCheckpoints.random(c, 61, DType.F32)) {
            LlamaModel model = LlamaModel.load(ck, be);
            ContinualTrainer a = new ContinualTrainer(model, config(), 2, tmp.resolve("a"), 3, "tiny", null);
            assertEquals(2, a.votesPerStep());
            ContinualTrainer.StepReport s1 = a.step(v.subList(0, 2));
            assertNull(s1.published());
            assertEquals(0, s1.policyVersion());
            ContinualTrainer.StepReport s2 = a.step(v.subList(2, 4));
            assertNotNull(s2.published(), "publish_every 2");
            assertEquals(1, s2.policyVersion());
            assertEquals(4, s2.lastVoteId());
            assertEquals(Math.log(2), s1.metrics().get("loss"), 1e-6, "the policy starts at the reference");
            assertTrue(s2.metrics().containsKey("rewards/accuracies") && s2.metrics().containsKey("off_policy_age"));
            ContinualTrainer.StepReport s3 = a.step(v.subList(4, 6));
            assertEquals(1.0, s3.metrics().get("off_policy_age"), 1e-12, "pairs from version 0 trained at version 1");

            // A second trainer on a copy of the checkpoint after step 2 continues with votes 5-6 and ends identical.
            ContinualTrainer b = new ContinualTrainer(model, config(), 2, tmp.resolve("b"), 3, "tiny", null);
            b.step(v.subList(0, 2));
            b.step(v.subList(2, 4));
            ContinualTrainer resumed = new ContinualTrainer(model, config(), 2, tmp.resolve("b"), 3, "tiny", null);
            ContinualTrainer.Resumed r = resumed.resume();
            assertEquals(2, r.step());
            assertEquals(1, r.policyVersion());
            assertEquals(4, r.lastVoteId());
            assertNotNull(r.policy());
            resumed.step(v.subList(4, 6));
            List<Tensor> x = a.adapter().parameters(), y = resumed.adapter().parameters();
            for (int i = 0; i < x.size(); i++) {
                assertArrayEquals(be.download(x.get(i)), be.download(y.get(i)), 1e-5f, "parameter " + i);
            }
        }
    }

    @Test
    void aPartialWindowTrainsAndTooManyVotesAreRefused() throws Exception {
        ModelConfig c = TestCheckpoints.qwen2(71);
        try (Checkpoint ck = TestCheckpoints.random(c, 62, DType.F32)) {
            ContinualTrainer t = new ContinualTrainer(LlamaModel.load(ck, be), config(), 1, tmp.resolve("p"), 2,
                    "tiny", null);
            List<PreferencePair> v = votes(3, 71);
            ContinualTrainer.StepReport one = t.step(v.subList(0, 1));
            assertTrue(one.applied());
            assertEquals(1, one.policyVersion());
            assertThrows(IllegalArgumentException.class, () -> t.step(v));
            for (int i = 0; i < 4; i++) {
                t.step(v.subList(1, 3));
            }
            assertEquals(2, java.nio.file.Files.list(tmp.resolve("p")).count(), "keeps the newest checkpoints only");
        }
    }
}
