package org.pairwise.trainer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.accel.Tensor;
import org.pairwise.model.engine.SequenceScorer;
import org.pairwise.model.engine.SequenceScorer.Score;
import org.pairwise.model.load.Safetensors;
import org.pairwise.model.load.TensorData;
import org.pairwise.model.load.Tensors;
import org.pairwise.trainer.config.DpoConfig;
import org.pairwise.trainer.data.PreferencePair;

/** TR-DPO's reference sync on LoRA adapters, through a real session. */
class ReferenceSyncTest {
    static TinyLlama tiny;

    @TempDir
    Path tmp;

    @BeforeAll
    static void open() {
        tiny = TinyLlama.open(73);
    }

    @AfterAll
    static void close() {
        tiny.close();
    }

    static DpoConfig config(double alpha, int every) {
        return DpoConfig.defaults().withOverrides(Map.of("learning_rate", "5e-2", "lr_scheduler_type", "constant",
                "per_device_train_batch_size", "2", "lora_r", "4", "lora_alpha", "8", "gradient_checkpointing",
                "false", "sync_ref_model", "true", "ref_model_mixup_alpha", Double.toString(alpha),
                "ref_model_sync_steps", Integer.toString(every)));
    }

    /**
     * Five steps with α = 0.6 every 2 steps: the reference the checkpoint holds after step 5 equals R_0 = the initial
     * policy, R ← 0.6 P_2 + 0.4 R after step 2, R ← 0.6 P_4 + 0.4 R after step 4, computed here in double from the
     * policy adapters saved to disk after each step; and the cached reference log-probs follow each update.
     */
    @Test
    void theReferenceAfterNStepsIsTheDocumentedMixOfTheSavedAdapters() throws Exception {
        double alpha = 0.6;
        DpoConfig cfg = config(alpha, 2);
        DpoSession s = DpoSession.start(tiny.model(), cfg, cfg.lrSchedule(5), "tiny", null,
                DpoSession.Options.offline(4096));
        List<PreferencePair> data = ResumeAndPeftTest.randomPairs(10, 67, 11);
        List<SequenceScorer.Sequence> probe = DpoStep.sequences(data.subList(0, 2).stream()
                .map(cfg.truncation()::apply).toList());
        s.saveAdapter(tmp.resolve("p0"));
        Map<String, double[]> want = read(tmp.resolve("p0"));
        List<Score> before = null;
        for (int n = 1; n <= 5; n++) {
            s.accumulate(data.subList(2 * (n - 1), 2 * n), 1);
            if (n == 4) {
                before = s.scoreReference(data.subList(0, 2));  // cached now; step 4's sync must drop them
            }
            s.optimizerStep();
            s.saveAdapter(tmp.resolve("p" + n));
            if (n % 2 == 0) {
                Map<String, double[]> p = read(tmp.resolve("p" + n));
                want.replaceAll((k, r) -> mix(alpha, p.get(k), r));
            }
        }
        s.save(tmp.resolve("ck"));
        Map<String, double[]> got = read(tmp.resolve("ck").resolve(TrainerCheckpoint.REFERENCE_DIR));
        Map<String, double[]> policy = read(tmp.resolve("p5")), initial = read(tmp.resolve("p0"));
        double offPolicy = 0, offInitial = 0;
        for (String k : want.keySet()) {
            double[] w = want.get(k), g = got.get(k);
            for (int i = 0; i < w.length; i++) {
                assertEquals(w[i], g[i], 1e-6 * (1 + Math.abs(w[i])), k + "[" + i + "]");
                offPolicy = Math.max(offPolicy, Math.abs(g[i] - policy.get(k)[i]));
                offInitial = Math.max(offInitial, Math.abs(g[i] - initial.get(k)[i]));
            }
        }
        assertTrue(offPolicy > 1e-4 && offInitial > 1e-4, "the reference is neither the policy nor where it began: "
                + offPolicy + ", " + offInitial);
        List<Score> after = s.scoreReference(data.subList(0, 2));
        List<Score> fresh = new SequenceScorer(tiny.model(), 4096).score(probe, s.referenceAdapter());
        for (int i = 0; i < after.size(); i++) {
            assertEquals(fresh.get(i).logprob(), after.get(i).logprob(), 1e-9, "scores of the synced reference");
            assertTrue(Math.abs(before.get(i).logprob() - after.get(i).logprob()) > 1e-5, "not the stale cache");
        }
    }

    @Test
    void aHardUpdateMakesTheReferenceThePolicy() throws Exception {
        DpoConfig cfg = config(1.0, 1);
        DpoSession s = DpoSession.start(tiny.model(), cfg, cfg.lrSchedule(3), "tiny", null,
                DpoSession.Options.offline(4096));
        List<PreferencePair> data = ResumeAndPeftTest.randomPairs(4, 67, 12);
        for (int n = 0; n < 2; n++) {
            s.accumulate(data.subList(0, 2), 1);
            s.optimizerStep();
            List<Tensor> p = s.adapter().parameters(), r = s.referenceAdapter().parameters();
            for (int i = 0; i < p.size(); i++) {
                assertArrayEquals(tiny.be().download(p.get(i)), tiny.be().download(r.get(i)), 0f, "tensor " + i);
            }
        }
        // Policy = reference: every log-ratio is 0 and the sigmoid loss is ln 2, whatever the two steps learned.
        assertEquals(Math.log(2), s.evaluate(data.subList(2, 4)).out().loss, 1e-5);
    }

    @Test
    void offByDefaultTheReferenceIsTheBaseModelAndTheCheckpointHasNoReferenceAdapter() throws Exception {
        DpoConfig cfg = DpoConfig.defaults().withOverrides(Map.of("lora_r", "4", "lora_alpha", "8"));
        assertTrue(!cfg.syncRefModel() && cfg.refModelMixupAlpha() == 0.6 && cfg.refModelSyncSteps() == 512);
        DpoSession s = DpoSession.start(tiny.model(), cfg, cfg.lrSchedule(1), "tiny", null,
                DpoSession.Options.offline(4096));
        assertNull(s.referenceAdapter());
        s.save(tmp.resolve("plain"));
        assertTrue(!java.nio.file.Files.exists(tmp.resolve("plain").resolve(TrainerCheckpoint.REFERENCE_DIR)));
        DpoSession synced = DpoSession.start(tiny.model(), config(0.5, 2), cfg.lrSchedule(1), "tiny", null,
                DpoSession.Options.offline(4096));
        assertNotNull(synced.referenceAdapter());
        String msg = assertThrows(IllegalArgumentException.class, () -> synced.restore(tmp.resolve("plain")))
                .getMessage();
        assertTrue(msg.contains("without sync_ref_model"), msg);
        msg = assertThrows(IllegalArgumentException.class, () -> config(0.5, 2).with("precompute_ref_log_probs",
                "true")).getMessage();
        assertTrue(msg.contains("sync_ref_model"), msg);
    }

    // ref' = α p + (1 − α) ref, in double
    static double[] mix(double alpha, double[] p, double[] ref) {
        double[] out = new double[ref.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = alpha * p[i] + (1 - alpha) * ref[i];
        }
        return out;
    }

    /** A PEFT adapter directory's tensors, read from disk, widened to double. */
    static Map<String, double[]> read(Path dir) throws Exception {
        Map<String, double[]> out = new LinkedHashMap<>();
        try (Arena arena = Arena.ofConfined()) {
            for (TensorData t : Safetensors.read(dir.resolve("adapter_model.safetensors"), arena).values()) {
                float[] f = Tensors.toFloats(t);
                double[] d = new double[f.length];
                for (int i = 0; i < f.length; i++) {
                    d[i] = f[i];
                }
                out.put(t.name(), d);
            }
        }
        return out;
    }
}
