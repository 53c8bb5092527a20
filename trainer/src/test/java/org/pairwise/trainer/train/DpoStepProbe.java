package org.pairwise.trainer.train;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.pairwise.accel.Tensor;
import org.pairwise.model.engine.JitTiers;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.trainer.config.DpoConfig;
import org.pairwise.trainer.data.PreferencePair;

/**
 * Two optimizer steps of offline DPO on a tiny random Llama, each of two one-pair micro-batches (reference scoring,
 * the DPO step's forward, fused log-probs and backward, gradient accumulation and clipping, AdamW): the adapter after
 * them and the last step's metrics (every bit of each double), for {@link DpoStepJitTiersTest}. The warm-up runs
 * DpoSessionTest and OldVotesTest once needed ran the same training on more pairs.
 */
public final class DpoStepProbe {
    private DpoStepProbe() {}

    public static void main(String[] args) throws Exception {
        JitTiers.main(args, DpoStepProbe::run);
    }

    static Map<String, float[]> run(Path dir) throws Exception {
        Map<String, float[]> out = new LinkedHashMap<>();
        try (TinyLlama tiny = TinyLlama.open(71)) {
            List<PreferencePair> data = ResumeAndPeftTest.randomPairs(4, 67, 4);
            DpoConfig cfg = DpoConfig.defaults().withOverrides(Map.of("output_dir", dir.toString(),
                    "learning_rate", "1e-2", "per_device_train_batch_size", "1", "gradient_accumulation_steps", "2",
                    "max_steps", "2", "lora_r", "4", "lora_alpha", "8", "gradient_checkpointing", "false"));
            DpoTrainer.Outcome o = new DpoTrainer(tiny.model(), cfg, "tiny", null, 4096).train(data, null, null, null);
            LoraAdapter a = o.adapter();
            for (Map.Entry<String, Tensor> e : a.namedParameters().entrySet()) {
                out.put(e.getKey(), tiny.be().download(e.getValue()));
            }
            for (Map.Entry<String, Double> m : new TreeMap<>(o.lastMetrics()).entrySet()) {
                long bits = Double.doubleToRawLongBits(m.getValue());
                // 16 bits to a float, each an exact small integer, so no bit pattern can be lost on the way
                out.put("metric " + m.getKey(), new float[] {bits >>> 48, bits >>> 32 & 0xffff, bits >>> 16 & 0xffff,
                        bits & 0xffff});
            }
        }
        return out;
    }
}
