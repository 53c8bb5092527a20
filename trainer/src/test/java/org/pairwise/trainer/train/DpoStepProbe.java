package org.pairwise.trainer.train;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.pairwise.accel.Tensor;
import org.pairwise.model.engine.JitTiers;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.trainer.config.DpoConfig;
import org.pairwise.trainer.data.PreferencePair;

/**
 * Two optimizer steps of offline DPO on a tiny random Llama (reference scoring, the DPO step's forward, fused
 * log-probs and backward, gradient clipping, AdamW): the adapter after them and the last step's metrics, for
 * {@link DpoStepJitTiersTest}. The warm-up runs DpoSessionTest and OldVotesTest once needed ran exactly this.
 */
public final class DpoStepProbe {
    private DpoStepProbe() {}

    public static void main(String[] args) throws Exception {
        JitTiers.write(run(Files.createTempDirectory("dpo-probe")), Path.of(args[0]));
    }

    static Map<String, float[]> run(Path dir) throws Exception {
        Map<String, float[]> out = new LinkedHashMap<>();
        try (TinyLlama tiny = TinyLlama.open(71)) {
            List<PreferencePair> data = ResumeAndPeftTest.randomPairs(8, 67, 4);
            DpoConfig cfg = DpoConfig.defaults().withOverrides(Map.of("output_dir", dir.toString(),
                    "learning_rate", "1e-2", "per_device_train_batch_size", "2", "gradient_accumulation_steps", "2",
                    "lora_r", "4", "lora_alpha", "8", "gradient_checkpointing", "false"));
            DpoTrainer.Outcome o = new DpoTrainer(tiny.model(), cfg, "tiny", null, 4096).train(data, null, null, null);
            LoraAdapter a = o.adapter();
            for (Map.Entry<String, Tensor> e : a.namedParameters().entrySet()) {
                out.put(e.getKey(), tiny.be().download(e.getValue()));
            }
            for (Map.Entry<String, Double> m : new java.util.TreeMap<>(o.lastMetrics()).entrySet()) {
                out.put("metric " + m.getKey(), new float[] {m.getValue().floatValue()});
            }
        }
        return out;
    }
}
