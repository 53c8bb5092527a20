package org.pairwise.trainer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
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
import org.pairwise.model.engine.SequenceScorer;
import org.pairwise.model.engine.TestCheckpoints;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.model.load.Safetensors;
import org.pairwise.model.load.TensorData;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.trainer.config.DpoConfig;
import org.pairwise.trainer.data.PreferencePair;

class ResumeAndPeftTest {
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

    static List<PreferencePair> randomPairs(int n, int vocab, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<PreferencePair> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(PreferencePair.of(i + 1, "pair " + (i + 1), rng.ints(3 + i % 3, 0, vocab).toArray(),
                    rng.ints(2 + i % 4, 0, vocab).toArray(), rng.ints(4 - i % 3, 0, vocab).toArray(), 0));
        }
        return out;
    }

    DpoConfig config(String out) {
        return DpoConfig.defaults().withOverrides(Map.ofEntries(Map.entry("output_dir", tmp.resolve(out).toString()),
                Map.entry("learning_rate", "1e-2"), Map.entry("lr_scheduler_type", "cosine"),
                Map.entry("warmup_steps", "2"), Map.entry("per_device_train_batch_size", "2"),
                Map.entry("gradient_accumulation_steps", "2"), Map.entry("max_steps", "6"),
                Map.entry("save_steps", "3"), Map.entry("logging_steps", "1"), Map.entry("weight_decay", "0.01"),
                Map.entry("lora_r", "4"), Map.entry("lora_alpha", "8"), Map.entry("loss_type", "sigmoid,sft"),
                Map.entry("loss_weights", "1.0,0.5")));
    }

    @Test
    void resumingFromACheckpointEndsWithTheSameAdapterAsAnUninterruptedRun() throws Exception {
        ModelConfig c = TestCheckpoints.llama(67, false);
        // 5 pairs in micro-batches of 2 with accumulation 2: 2 optimizer steps per epoch, so step 3 starts epoch 2
        // in the middle of the data order, and the resumed run must pick up the same shuffle position.
        List<PreferencePair> data = randomPairs(5, 67, 1);
        try (Checkpoint ck = TestCheckpoints.random(c, 51, DType.F32)) {
            LlamaModel model = LlamaModel.load(ck, be);
            DpoTrainer.Outcome full = new DpoTrainer(model, config("full"), "tiny", null, 1024)
                    .train(data, null, null, null);
            Path checkpoint = tmp.resolve("full/checkpoint-3");
            assertTrue(Files.isDirectory(checkpoint));
            DpoTrainer.Outcome resumed = new DpoTrainer(model, config("resumed"), "tiny", null, 1024)
                    .train(data, null, null, checkpoint);
            assertEquals(6, resumed.steps());
            List<Tensor> a = full.adapter().parameters(), b = resumed.adapter().parameters();
            double moved = 0;
            for (int i = 0; i < a.size(); i++) {
                float[] x = be.download(a.get(i)), y = be.download(b.get(i));
                assertArrayEquals(x, y, 1e-5f, "parameter " + i);
                for (float v : x) {
                    moved = Math.max(moved, Math.abs(v));
                }
            }
            assertTrue(moved > 0, "training changed the adapter");
            // The resumed run's metrics continue the original's: steps 4..6 with the same values. Reference log-probs
            // are recomputed in differently padded batches after a resume, which moves them in the 7th digit.
            List<String> fullLog = Files.readAllLines(tmp.resolve("full/metrics.jsonl"));
            List<String> resumedLog = Files.readAllLines(tmp.resolve("resumed/metrics.jsonl"));
            assertEquals(3, resumedLog.size());
            ObjectMapper json = new ObjectMapper();
            for (int i = 0; i < 3; i++) {
                JsonNode want = json.readTree(fullLog.get(3 + i)), got = json.readTree(resumedLog.get(i));
                assertEquals(new TreeSet<>(iterate(want.fieldNames())), new TreeSet<>(iterate(got.fieldNames())));
                for (String k : iterate(want.fieldNames())) {
                    double w = want.get(k).asDouble();
                    assertEquals(w, got.get(k).asDouble(), 1e-5 * (1 + Math.abs(w)), "step " + (4 + i) + " " + k);
                }
            }
        }
    }

    static List<String> iterate(Iterator<String> it) {
        List<String> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }

    @Test
    void trainedAdapterIsAPeftAdapterThatLoadsBackAndScoresIdentically() throws Exception {
        ModelConfig c = TestCheckpoints.qwen2(71);
        List<PreferencePair> data = randomPairs(4, 71, 2);
        try (Checkpoint ck = TestCheckpoints.random(c, 52, DType.F32)) {
            LlamaModel model = LlamaModel.load(ck, be);
            DpoTrainer.Outcome o = new DpoTrainer(model, config("peft"), "org/tiny-qwen2", null, 1024)
                    .train(data, null, null, null);
            Path dir = tmp.resolve("peft");
            JsonNode cfg = new ObjectMapper().readTree(dir.resolve("adapter_config.json").toFile());
            TreeSet<String> keys = new TreeSet<>();
            for (Iterator<String> it = cfg.fieldNames(); it.hasNext(); ) {
                keys.add(it.next());
            }
            // The fields PEFT's LoraConfig.save_pretrained writes for a plain LoRA adapter.
            assertEquals(new TreeSet<>(List.of("alpha_pattern", "auto_mapping", "base_model_name_or_path", "bias",
                    "fan_in_fan_out", "inference_mode", "init_lora_weights", "layers_pattern", "layers_to_transform",
                    "lora_alpha", "lora_dropout", "modules_to_save", "peft_type", "r", "rank_pattern", "revision",
                    "target_modules", "task_type", "use_dora", "use_rslora")), keys);
            assertEquals("LORA", cfg.get("peft_type").asText());
            assertEquals("CAUSAL_LM", cfg.get("task_type").asText());
            assertEquals("org/tiny-qwen2", cfg.get("base_model_name_or_path").asText());
            assertEquals(4, cfg.get("r").asInt());
            assertEquals(8, cfg.get("lora_alpha").asInt());
            try (Arena arena = Arena.ofConfined()) {
                Map<String, TensorData> t = Safetensors.read(dir.resolve("adapter_model.safetensors"), arena);
                assertEquals(c.numLayers() * 7 * 2, t.size());
                TensorData q = t.get("base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight");
                assertArrayEquals(new long[] {4, c.hiddenSize()}, q.shape());
                TensorData down = t.get("base_model.model.model.layers.0.mlp.down_proj.lora_B.weight");
                assertArrayEquals(new long[] {c.hiddenSize(), 4}, down.shape());
            }
            LoraAdapter loaded = LoraAdapter.load(dir, c, be);
            List<SequenceScorer.Sequence> seqs = DpoStep.sequences(data.stream().map(config("x").truncation()::apply)
                    .toList());
            SequenceScorer scorer = new SequenceScorer(model, 1024);
            List<SequenceScorer.Score> inMemory = scorer.score(seqs, o.adapter());
            List<SequenceScorer.Score> fromDisk = scorer.score(seqs, loaded);
            List<SequenceScorer.Score> base = scorer.score(seqs, null);
            for (int i = 0; i < seqs.size(); i++) {
                // F32 on disk holds the exact values; only JIT-dependent rounding can differ between the two runs.
                assertEquals(inMemory.get(i).logprob(), fromDisk.get(i).logprob(), 1e-5, "sequence " + i);
                assertTrue(Math.abs(base.get(i).logprob() - fromDisk.get(i).logprob()) > 1e-4, "trained, " + i);
            }
        }
    }
}
