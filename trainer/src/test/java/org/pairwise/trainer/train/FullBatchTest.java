package org.pairwise.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.accel.DTypes;
import org.pairwise.model.load.Safetensors;
import org.pairwise.model.load.TensorData;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.trainer.config.DpoConfig;
import org.pairwise.trainer.data.PreferencePair;

/**
 * The gradient of the whole-set loss is the same however the position budget splits the set: the micro-batch scales
 * (pair share, chosen-token share for sft, one batch for a mix) make the sum exact.
 */
class FullBatchTest {
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

    @ParameterizedTest
    @ValueSource(strings = {"sigmoid", "sft", "sigmoid,sft", "aot"})
    void splittingTheSetIntoMicroBatchesLeavesTheGradientAsOneBatchGivesIt(String lossType) throws Exception {
        List<PreferencePair> pairs = ResumeAndPeftTest.randomPairs(7, 67, 8);
        DpoConfig cfg = DpoConfig.defaults().withOverrides(Map.of("loss_type", lossType, "max_length", "null",
                "gradient_checkpointing", "false", "lora_r", "2", "lora_alpha", "4"));
        // A trained-looking adapter (B != 0), so every LoRA matrix has a gradient.
        DpoSession trained = DpoSession.start(tiny.model(), cfg.withOverrides(Map.of("learning_rate", "0.05")),
                cfg.lrSchedule(1), "tiny", null, DpoSession.Options.offline(4096));
        trained.accumulate(pairs, 1);
        trained.optimizerStep();
        LoraAdapter policy = trained.snapshot();
        Map<String, float[]> whole = gradient(cfg, policy, pairs, 1 << 20, "whole");
        Map<String, float[]> split = gradient(cfg, policy, pairs, 24, "split");
        assertEquals(whole.keySet(), split.keySet());
        double largest = 0;
        for (String k : whole.keySet()) {
            float[] a = whole.get(k), b = split.get(k);
            for (int i = 0; i < a.length; i++) {
                assertEquals(a[i], b[i], 1e-6 + 1e-4 * Math.abs(a[i]), k + "[" + i + "]");
                largest = Math.max(largest, Math.abs(a[i]));
            }
        }
        assertTrue(largest > 1e-4, "a gradient to compare: " + largest);
    }

    private Map<String, float[]> gradient(DpoConfig cfg, LoraAdapter policy, List<PreferencePair> pairs,
                                          int batchTokens, String name) throws Exception {
        DpoSession s = DpoSession.start(tiny.model(), cfg, cfg.lrSchedule(1), "tiny", policy,
                DpoSession.Options.offline(4096));
        FullBatch.accumulateGradient(s, pairs, batchTokens);
        Path file = tmp.resolve(name + ".safetensors");
        s.saveGradients(file);
        Map<String, float[]> out = new java.util.TreeMap<>();
        try (Arena arena = Arena.ofConfined()) {
            for (TensorData t : Safetensors.read(file, arena).values()) {
                out.put(t.name(), DTypes.toFloats(t.data(), t.dtype(), (int) t.numel()));
            }
        }
        return out;
    }
}
