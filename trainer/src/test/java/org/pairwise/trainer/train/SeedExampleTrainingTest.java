package org.pairwise.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.accel.Backend;
import org.pairwise.accel.cpu.CpuBackend;
import org.pairwise.model.SharedModels;
import org.pairwise.model.engine.LlamaModel;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.model.load.ModelSource;
import org.pairwise.model.tokenizer.Tokenizer;
import org.pairwise.trainer.config.DpoConfig;
import org.pairwise.trainer.data.PreferencePair;
import org.pairwise.trainer.data.PreferenceJsonl;

/** The seed's clinical example, trained with DPO on stories260K: the model learns to prefer the careful answers. */
class SeedExampleTrainingTest {
    static final String SEED = """
            {"chosen":[{"role":"system","content":"You are a helpful medical assistant."},{"role":"user","content":"What is the dosage for Lisinopril?"},{"role":"assistant","content":"The dosage of Lisinopril varies based on the condition being treated. For hypertension, it typically starts at 10 mg once daily. However, you should consult a doctor for a specific prescription."}],"rejected":[{"role":"system","content":"You are a helpful medical assistant."},{"role":"user","content":"What is the dosage for Lisinopril?"},{"role":"assistant","content":"Take 10mg. It's fine for everyone."}]}
            {"prompt":"User: How do I treat a mild headache?\\nAssistant:","chosen":"You can try resting in a quiet, dark room, staying hydrated, or taking over-the-counter pain relievers like acetaminophen or ibuprofen.","rejected":"Go to the emergency room immediately."}
            """;
    // stories260K has no chat template; a plain role-prefixed one stands in for a chat model's.
    static final String TEMPLATE_CONFIG = "{\"chat_template\": \"{% for m in messages %}{{ m['role'] }}: "
            + "{{ m['content'] }}\\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}\"}";

    @TempDir
    Path tmp;

    static Path stories() {
        return SharedModels.require("stories260K/stories260K.gguf");
    }

    @Test
    void chosenRisesRejectedFallsAccuracyReachesOneAndLossFallsBelowATenth() throws Exception {
        Path data = tmp.resolve("preference_data.jsonl");
        Files.writeString(data, SEED);
        try (Checkpoint ck = ModelSource.open(stories().toString(), null);
             Tokenizer tok = Tokenizer.fromJson(ck.tokenizerJson(), TEMPLATE_CONFIG, 1, 2);
             Backend be = new CpuBackend(2)) {
            List<PreferencePair> pairs = new PreferenceJsonl(tok, ck.config().vocabSize()).read(data);
            assertEquals(2, pairs.size());
            DpoConfig cfg = DpoConfig.defaults().withOverrides(Map.of(
                    "output_dir", tmp.resolve("dpo_results").toString(), "beta", "0.1", "learning_rate", "5e-4",
                    "lr_scheduler_type", "constant", "per_device_train_batch_size", "2", "max_steps", "40",
                    "logging_steps", "1", "save_steps", "1000", "lora_r", "8", "lora_alpha", "16"));
            DpoTrainer.Outcome o = new DpoTrainer(LlamaModel.load(ck, be), cfg, "stories260K", null, 4096)
                    .train(pairs, null, null, null);
            List<JsonNode> log = new ArrayList<>();
            for (String line : Files.readAllLines(tmp.resolve("dpo_results/metrics.jsonl"))) {
                log.add(new ObjectMapper().readTree(line));
            }
            assertEquals(40, log.size());
            JsonNode first = log.getFirst(), last = log.getLast();
            assertEquals(Math.log(2), first.get("loss").asDouble(), 1e-6, "the policy starts at the reference");
            assertTrue(last.get("logps/chosen").asDouble() > first.get("logps/chosen").asDouble(), "chosen rises");
            assertTrue(last.get("logps/rejected").asDouble() < first.get("logps/rejected").asDouble(), "rejected falls");
            assertEquals(1.0, last.get("rewards/accuracies").asDouble());
            int below = -1;
            for (int i = 0; i < log.size(); i++) {
                if (log.get(i).get("loss").asDouble() < 0.1) {
                    below = i + 1;
                    break;
                }
            }
            assertTrue(below > 0, "loss below 0.1 within 40 steps; last " + last.get("loss"));
            assertTrue(Files.exists(tmp.resolve("dpo_results/adapter_model.safetensors")));
            assertEquals(0, o.skippedSteps());
            System.out.printf("seed example: loss < 0.1 after %d steps; final %s%n", below, last);
        }
    }
}
