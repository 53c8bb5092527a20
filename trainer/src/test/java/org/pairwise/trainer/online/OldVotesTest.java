package org.pairwise.trainer.online;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
import org.pairwise.model.load.Safetensors;
import org.pairwise.model.load.TensorData;
import org.pairwise.model.load.Tensors;
import org.pairwise.trainer.config.DpoConfig;
import org.pairwise.trainer.data.InMemoryReplay;
import org.pairwise.trainer.data.PreferencePair;
import org.pairwise.trainer.train.DpoSession;
import org.pairwise.trainer.train.DpoStep;
import org.pairwise.trainer.train.TrainerCheckpoint;

/** Old votes in continual training: the replay buffer and the decay of a vote's weight with its age. */
class OldVotesTest {
    static Backend be;
    static Checkpoint ck;
    static LlamaModel model;

    @TempDir
    Path tmp;

    @BeforeAll
    static void open() {
        be = new CpuBackend(2);
        ModelConfig c = TestCheckpoints.llama(67, false);
        ck = TestCheckpoints.random(c, 63, DType.F32);
        model = LlamaModel.load(ck, be);
    }

    @AfterAll
    static void close() {
        ck.close();
        be.close();
    }

    // Votes 2k+1 and 2k+2 are for step k, sampled by policy version max(0, k - 1).
    static List<PreferencePair> votes(int n) {
        SplittableRandom rng = new SplittableRandom(19);
        List<PreferencePair> out = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            out.add(PreferencePair.of(i, "vote " + i, rng.ints(3, 0, 67).toArray(), rng.ints(2 + i % 3, 0, 67)
                    .toArray(), rng.ints(3, 0, 67).toArray(), Math.max(0, (i - 1) / 2 - 1)));
        }
        return out;
    }

    static DpoConfig allOn() {
        return DpoConfig.defaults().withOverrides(Map.ofEntries(Map.entry("learning_rate", "2e-2"),
                Map.entry("per_device_train_batch_size", "2"), Map.entry("save_steps", "1"),
                Map.entry("lora_r", "4"), Map.entry("lora_alpha", "8"), Map.entry("gradient_checkpointing", "false"),
                Map.entry("sync_ref_model", "true"), Map.entry("ref_model_mixup_alpha", "0.5"),
                Map.entry("ref_model_sync_steps", "2"), Map.entry("replay_pairs_per_step", "2"),
                Map.entry("vote_decay_gamma", "0.7")));
    }

    /**
     * Replay (a 5-pair reservoir, so replacement happens), decay and reference sync all on, publishing every step so
     * that ages grow: six steps in one run against three, a restart from the checkpoint, and three more. Adapter,
     * reference adapter, replay state and the metrics of steps 4-6 agree bit for bit, from this JVM's first run on.
     */
    @Test
    void aRestartWithReplayDecayAndReferenceSyncResumesExactly() throws Exception {
        List<PreferencePair> v = votes(12);
        InMemoryReplay replayA = new InMemoryReplay(7, 5);
        ContinualTrainer a = new ContinualTrainer(model, allOn(), 1, tmp.resolve("a"), 10, "tiny", null, replayA);
        List<Map<String, Double>> metricsA = new ArrayList<>();
        for (int k = 0; k < 6; k++) {
            metricsA.add(a.step(v.subList(2 * k, 2 * k + 2)).metrics());
        }
        assertEquals(0.0, metricsA.get(0).get("replay_pairs"), "nothing trained before the first step");
        assertEquals(2.0, metricsA.get(5).get("replay_pairs"));
        assertEquals(5, replayA.size(), "the reservoir is full and has replaced pairs");

        ContinualTrainer b = new ContinualTrainer(model, allOn(), 1, tmp.resolve("b"), 10, "tiny", null,
                new InMemoryReplay(7, 5));
        for (int k = 0; k < 3; k++) {
            b.step(v.subList(2 * k, 2 * k + 2));
        }
        InMemoryReplay replayB = new InMemoryReplay(7, 5);
        ContinualTrainer resumed = new ContinualTrainer(model, allOn(), 1, tmp.resolve("b"), 10, "tiny", null,
                replayB);
        assertEquals(3, resumed.resume().step());
        for (int k = 3; k < 6; k++) {
            Map<String, Double> got = resumed.step(v.subList(2 * k, 2 * k + 2)).metrics();
            for (String key : List.of("loss", "rewards/margins", "replay_pairs", "off_policy_age")) {
                double want = metricsA.get(k).get(key);
                assertEquals(want, got.get(key), 0.0, "step " + (k + 1) + " " + key);
            }
        }
        List<Tensor> x = a.adapter().parameters(), y = resumed.adapter().parameters();
        for (int i = 0; i < x.size(); i++) {
            assertArrayEquals(be.download(x.get(i)), be.download(y.get(i)), 0f, "parameter " + i);
        }
        Map<String, float[]> refA = read(tmp.resolve("a/checkpoint-6").resolve(TrainerCheckpoint.REFERENCE_DIR));
        Map<String, float[]> refB = read(tmp.resolve("b/checkpoint-6").resolve(TrainerCheckpoint.REFERENCE_DIR));
        refA.forEach((k, r) -> assertArrayEquals(r, refB.get(k), 0f, "reference " + k));
        ObjectMapper json = new ObjectMapper();
        assertEquals(json.writeValueAsString(replayA.state()), json.writeValueAsString(replayB.state()),
                "the same reservoir and counters");
    }

    /**
     * With vote_decay_gamma 0.5 at policy version 3, pairs of versions 0, 1 and 3 weigh 1/8, 1/4 and 1: the gradient
     * of their batch equals, in a session without decay, the sum of each pair's own gradient scaled by its weight
     * over the 3 pairs of the batch mean (the DPO loss of a batch is the weighted mean over its pairs).
     */
    @Test
    void decayedWeightsReachTheGradientAsExplicitlyWeightedPairsDo() throws Exception {
        DpoConfig plain = DpoConfig.defaults().withOverrides(Map.of("lora_r", "4", "lora_alpha", "8",
                "gradient_checkpointing", "false"));
        DpoConfig decayed = plain.with("vote_decay_gamma", "0.5");
        List<PreferencePair> pairs = new ArrayList<>();
        int[] versions = {0, 1, 3};
        for (int i = 0; i < 3; i++) {
            PreferencePair p = votes(3).get(i);
            pairs.add(new PreferencePair(p.id(), p.source(), p.promptIds(), p.chosenIds(), p.rejectedIds(),
                    versions[i], 1.0, Double.NaN));
        }
        DpoSession d = session(decayed);
        d.setPosition(DpoSession.Position.online(0, 3));
        assertEquals(0.125, d.effectiveWeight(pairs.get(0)), 0);
        DpoStep.Result r = d.accumulate(pairs, 1);
        d.saveGradients(tmp.resolve("decayed.safetensors"));

        double[] w = {0.125, 0.25, 1};
        DpoSession e = session(plain);
        double loss = 0;
        for (int i = 0; i < 3; i++) {
            loss += w[i] / 3 * e.accumulate(List.of(pairs.get(i)), w[i] / 3).out().loss;
        }
        e.saveGradients(tmp.resolve("explicit.safetensors"));
        assertEquals(loss, r.out().loss, 1e-9 * (1 + Math.abs(loss)));
        Map<String, float[]> got = read(tmp.resolve("decayed.safetensors"));
        Map<String, float[]> want = read(tmp.resolve("explicit.safetensors"));
        double norm = 0;
        for (String k : want.keySet()) {
            float[] g = got.get(k), x = want.get(k);
            for (int i = 0; i < x.length; i++) {
                assertEquals(x[i], g[i], 1e-6 * (1 + Math.abs(x[i])), k + "[" + i + "]");
                norm += Math.abs(g[i]);
            }
        }
        assertTrue(norm > 1e-3, "a zero gradient would pass vacuously");
        DpoSession undecayed = session(plain);
        undecayed.setPosition(DpoSession.Position.online(0, 3));
        undecayed.accumulate(pairs, 1);
        undecayed.saveGradients(tmp.resolve("undecayed.safetensors"));
        Map<String, float[]> u = read(tmp.resolve("undecayed.safetensors"));
        double diff = 0;
        for (String k : u.keySet()) {
            for (int i = 0; i < u.get(k).length; i++) {
                diff = Math.max(diff, Math.abs(u.get(k)[i] - got.get(k)[i]));
            }
        }
        assertTrue(diff > 1e-4, "decay changed the gradient: " + diff);
    }

    @Test
    void replayIsOffByDefaultAndRefusedOffline() {
        DpoConfig d = DpoConfig.defaults();
        assertEquals(0, d.replayPairsPerStep());
        assertEquals(1.0, d.voteDecayGamma());
        String msg = assertThrows(IllegalArgumentException.class, () -> new org.pairwise.trainer.train.DpoTrainer(
                model, d.with("replay_pairs_per_step", "1"), "tiny", null, 1024).train(votes(2), null, null, null))
                .getMessage();
        assertTrue(msg.startsWith("replay_pairs_per_step"), msg);
    }

    private static DpoSession session(DpoConfig cfg) {
        return DpoSession.start(model, cfg, cfg.lrSchedule(1), "tiny", null, DpoSession.Options.continual());
    }

    static Map<String, float[]> read(Path dirOrFile) throws Exception {
        Path file = dirOrFile.toString().endsWith(".safetensors") ? dirOrFile
                : dirOrFile.resolve("adapter_model.safetensors");
        Map<String, float[]> out = new LinkedHashMap<>();
        try (Arena arena = Arena.ofConfined()) {
            for (TensorData t : Safetensors.read(file, arena).values()) {
                out.put(t.name(), Tensors.toFloats(t));
            }
        }
        return out;
    }
}
