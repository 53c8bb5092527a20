package org.pairwise.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainCommandTest {
    @TempDir
    Path tmp;

    static final String DATA = """
            [{"prompt":"Once upon a time","chosen":" there was a kind dog.","rejected":" there was a mean cat."},
             {"prompt":"Lily went to the park","chosen":" and played with her friend.","rejected":" and cried."},
             {"prompt_input_ids":[1,403,407],"chosen_input_ids":[261,378,2],"rejected_input_ids":[432,2]}]
            """;

    @Test
    void trainWritesMetricsCheckpointsAndAPeftAdapterThatScoreLoads() throws Exception {
        String model = CliTest.stories("stories260K.gguf");
        Path data = Files.writeString(tmp.resolve("pairs.json"), DATA);
        Path config = Files.writeString(tmp.resolve("dpo.yaml"), """
                beta: 0.2
                learning_rate: 0.002
                lr_scheduler_type: cosine
                warmup_ratio: 0.1
                logging_steps: 2
                save_steps: 4
                lora_r: 4
                lora_alpha: 8
                """);
        Path out = tmp.resolve("dpo_results");
        CliTest.Result r = CliTest.run("train", "--model", model, "--data", data.toString(), "--config",
                config.toString(), "--output-dir", out.toString(), "--per-device-train-batch-size", "2",
                "--gradient-accumulation-steps", "1", "--max-steps", "8", "--lora-target-modules",
                "q_proj,v_proj,down_proj", "--gradient-checkpointing=false");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("done: 8 steps (0 skipped"), r.out());
        List<String> metrics = Files.readAllLines(out.resolve("metrics.jsonl"));
        assertEquals(4, metrics.size(), "logging_steps 2 over 8 steps");
        JsonNode first = Json.MAPPER.readTree(metrics.getFirst()), last = Json.MAPPER.readTree(metrics.getLast());
        for (String k : List.of("loss", "grad_norm", "learning_rate", "num_tokens", "logits/chosen", "logits/rejected",
                "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen",
                "logps/rejected", "epoch")) {
            assertTrue(last.has(k), "metric " + k + " in " + last);
        }
        assertEquals(8, last.get("step").asInt());
        assertTrue(last.get("rewards/margins").asDouble() > first.get("rewards/margins").asDouble());
        assertTrue(Files.isDirectory(out.resolve("checkpoint-4")) && Files.isDirectory(out.resolve("checkpoint-8")));
        assertTrue(Files.exists(out.resolve("checkpoint-4/optimizer.safetensors")));
        JsonNode cfg = Json.MAPPER.readTree(out.resolve("training_config.json").toFile());
        assertEquals(0.2, cfg.get("beta").asDouble(), "from the YAML file");
        assertEquals(2, cfg.get("per_device_train_batch_size").asInt(), "from the flag");
        JsonNode adapter = Json.MAPPER.readTree(out.resolve("adapter_config.json").toFile());
        assertEquals("[\"q_proj\",\"v_proj\",\"down_proj\"]", adapter.get("target_modules").toString());

        Path scores = tmp.resolve("scores.jsonl");
        CliTest.Result s = CliTest.run("score", "--model", model, "--adapter", out.toString(), "--data",
                data.toString(), "--out", scores.toString());
        assertEquals(0, s.code(), s.err());
        long wins = Files.readAllLines(scores).stream().map(line -> {
            try {
                return Json.MAPPER.readTree(line).get("reward_margin").asDouble();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }).filter(m -> m > 0).count();
        assertEquals(3, wins, "the trained adapter prefers every chosen completion");
    }

    @Test
    void unknownFlagsAndBadValuesAreReadableErrors() throws Exception {
        String model = CliTest.stories("stories260K.gguf");
        Path data = Files.writeString(tmp.resolve("pairs.json"), DATA);
        CliTest.Result r = CliTest.run("train", "--model", model, "--data", data.toString(), "--betta", "0.1");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unknown option '--betta'"), r.err());
        r = CliTest.run("train", "--model", model, "--data", data.toString(), "--beta", "-1",
                "--output-dir", tmp.resolve("o").toString());
        assertEquals(2, r.code());  // a bad setting is bad usage
        assertTrue(r.err().strip().startsWith("pairwise: error: beta"), r.err());
        r = CliTest.run("train", "--model", model, "--data", data.toString(), "--loss-type", "dpo",
                "--output-dir", tmp.resolve("o").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("sigmoid"), "lists the valid loss types: " + r.err());
    }
}
