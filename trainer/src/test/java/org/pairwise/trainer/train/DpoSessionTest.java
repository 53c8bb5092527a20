package org.pairwise.trainer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.accel.Backend;
import org.pairwise.accel.Tensor;
import org.pairwise.model.engine.LlamaModel;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.trainer.config.DpoConfig;
import org.pairwise.trainer.data.PreferencePair;
import org.pairwise.trainer.online.ContinualTrainer;

/** The one training path: offline and continual runs agree, and a session continues exactly from its checkpoint. */
class DpoSessionTest {
    static TinyLlama tiny;
    static Backend be;
    static LlamaModel model;

    @TempDir
    Path tmp;

    @BeforeAll
    static void open() throws Exception {
        tiny = TinyLlama.open(71);
        be = tiny.be();
        model = tiny.model();
    }

    @AfterAll
    static void close() {
        tiny.close();
    }

    // Constant rate, no warmup: the offline schedule equals the continual trainer's. BCO with TRL 0.x's running shift
    // next to sigmoid, so the loss carries state from micro-batch to micro-batch.
    DpoConfig config(String out) {
        return DpoConfig.defaults().withOverrides(Map.ofEntries(Map.entry("output_dir", tmp.resolve(out).toString()),
                Map.entry("learning_rate", "1e-2"), Map.entry("lr_scheduler_type", "constant"),
                Map.entry("per_device_train_batch_size", "2"), Map.entry("gradient_accumulation_steps", "2"),
                Map.entry("num_train_epochs", "1"), Map.entry("save_steps", "1000"), Map.entry("logging_steps", "1"),
                Map.entry("weight_decay", "0.01"), Map.entry("lora_r", "4"), Map.entry("lora_alpha", "8"),
                Map.entry("loss_type", "sigmoid,bco_pair"), Map.entry("bco_pair_reward_shift", "true"),
                Map.entry("gradient_checkpointing", "false")));
    }

    static void assertSameBits(LoraAdapter a, LoraAdapter b) {
        List<Tensor> x = a.parameters(), y = b.parameters();
        assertEquals(x.size(), y.size());
        for (int i = 0; i < x.size(); i++) {
            assertArrayEquals(be.download(x.get(i)), be.download(y.get(i)), 0f, "parameter " + i);
        }
    }

    @Test
    void anOfflineRunAndAContinualRunOverTheSamePairsInTheSameOrderEndBitIdentical() throws Exception {
        List<PreferencePair> data = ResumeAndPeftTest.randomPairs(12, 67, 5);
        // 12 pairs, micro-batches of 2, accumulation 2: 3 optimizer steps of 4 pairs, no partial micro-batch.
        DpoTrainer.Outcome offline = new DpoTrainer(model, config("offline"), "tiny", null, 4096)
                .train(data, null, null, null);
        assertEquals(3, offline.steps());

        int[] order = Shuffle.permutation(data.size(), config("x").seed(), 0);
        ContinualTrainer online = new ContinualTrainer(model, config("online"), 1, tmp.resolve("online"), 2, "tiny",
                null);
        for (int s = 0; s < 3; s++) {
            List<PreferencePair> votes = new ArrayList<>();
            for (int i = 4 * s; i < 4 * s + 4; i++) {
                votes.add(data.get(order[i]));
            }
            assertTrue(online.step(votes).applied());
        }
        assertSameBits(offline.adapter(), online.adapter());
        double moved = 0;
        for (Tensor t : online.adapter().parameters()) {
            for (float v : be.download(t)) {
                moved = Math.max(moved, Math.abs(v));
            }
        }
        assertTrue(moved > 0, "training changed the adapter");
    }

    /** Four steps through one session against two steps, save, restore into a fresh session, two more steps. */
    @Test
    void aRestoredSessionContinuesExactlyAsAnUninterruptedOneIncludingTheBcoMoments() throws Exception {
        List<PreferencePair> data = ResumeAndPeftTest.randomPairs(16, 67, 6);
        DpoConfig cfg = config("unused");
        DpoSession whole = DpoSession.start(model, cfg, cfg.lrSchedule(4), "tiny", null,
                DpoSession.Options.offline(4096));
        Path half = tmp.resolve("half");
        for (int s = 0; s < 4; s++) {
            steps(whole, data, s);
            if (s == 1) {
                whole.save(half);
            }
        }
        DpoSession resumed = DpoSession.start(model, cfg, cfg.lrSchedule(4), "tiny", null,
                DpoSession.Options.offline(4096));
        resumed.restore(half);
        assertEquals(2, resumed.steps());
        assertEquals(DpoSession.Position.offline(0, 4, 0.5), resumed.position());
        for (int s = 2; s < 4; s++) {
            steps(resumed, data, s);
        }
        assertSameBits(whole.adapter(), resumed.adapter());
        Path a = tmp.resolve("a"), b = tmp.resolve("b");
        whole.save(a);
        resumed.save(b);
        for (String f : List.of("adapter_model.safetensors", TrainerCheckpoint.OPTIMIZER_FILE)) {
            assertArrayEquals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)), f);
        }
        ObjectMapper json = new ObjectMapper();
        JsonNode x = json.readTree(a.resolve(TrainerCheckpoint.STATE_FILE).toFile());
        JsonNode y = json.readTree(b.resolve(TrainerCheckpoint.STATE_FILE).toFile());
        assertEquals(x, y, "steps, tokens, position, BCO moments and log history");
        // Eight micro-batches moved the BCO moments away from TRL's starting point (mean 0, count 1e-24).
        assertEquals(8.0, y.get("bco_moments").get("count").asDouble(), 1e-9);
        assertNotEquals(0.0, y.get("bco_moments").get("mean").asDouble());
        assertEquals(4, y.get("log_history").size());
    }

    // Optimizer step s over pairs 4s..4s+3 in two micro-batches, with its position and one log line.
    private static void steps(DpoSession session, List<PreferencePair> data, int s) {
        for (int m = 0; m < 2; m++) {
            int from = 4 * s + 2 * m;
            session.accumulate(data.subList(from, from + 2), 0.5);
        }
        DpoSession.Step step = session.optimizerStep();
        session.setPosition(DpoSession.Position.offline(0, 2 * step.globalStep(), step.globalStep() / 4.0));
        session.log(Map.of("step", step.globalStep(), "grad_norm", step.gradNorm()));
    }

    @Test
    void aCheckpointOfAnotherAdapterShapeIsRefused() throws Exception {
        DpoConfig cfg = config("unused");
        DpoSession r4 = DpoSession.start(model, cfg, cfg.lrSchedule(1), "tiny", null, DpoSession.Options.offline(64));
        r4.save(tmp.resolve("r4"));
        DpoConfig r2 = cfg.withOverrides(Map.of("lora_r", "2"));
        DpoSession other = DpoSession.start(model, r2, r2.lrSchedule(1), "tiny", null, DpoSession.Options.offline(64));
        String msg = assertThrows(IllegalArgumentException.class, () -> other.restore(tmp.resolve("r4"))).getMessage();
        assertTrue(msg.contains("rank-4") && msg.contains("rank 2"), msg);
    }

    @Test
    void pairsTheStepCannotTakeAreRefusedNamingTheirSource() {
        DpoConfig cfg = config("unused").withOverrides(Map.of("max_length", "null"));
        DpoSession session = DpoSession.start(model, cfg, cfg.lrSchedule(1), "tiny", null,
                DpoSession.Options.offline(4096));
        int[] prompt = {1, 2, 3};
        PreferencePair tooLong = PreferencePair.of(7, "data.jsonl:7", prompt, new int[70], new int[] {4}, 0);
        String msg = assertThrows(IllegalArgumentException.class,
                () -> session.accumulate(List.of(tooLong), 1)).getMessage();
        assertTrue(msg.startsWith("data.jsonl:7: a sequence of 73 tokens exceeds the model's context of 64"), msg);
        // Per-pair weights and label smoothing train (DpoLossValuesTest checks their values); what the configured
        // loss types cannot take is refused naming the pair.
        PreferencePair weighted = new PreferencePair(8, "vote 8", prompt, new int[] {4}, new int[] {5}, 0, 0.5,
                Double.NaN);
        PreferencePair smoothed = new PreferencePair(9, "vote 9", prompt, new int[] {4}, new int[] {5}, 0, 1.0, 0.1);
        assertTrue(Double.isFinite(session.accumulate(List.of(weighted, smoothed), 1).out().loss));
        for (Object[] refused : new Object[][] {{"ipo", smoothed, "vote 9: loss_type [ipo] ignores label smoothing"},
                {"aot", weighted, "vote 8: loss_type aot pairs sorted positions"}}) {
            DpoConfig c = cfg.withOverrides(Map.of("loss_type", (String) refused[0]));
            DpoSession s = DpoSession.start(model, c, c.lrSchedule(1), "tiny", null, DpoSession.Options.offline(4096));
            msg = assertThrows(IllegalArgumentException.class,
                    () -> s.accumulate(List.of((PreferencePair) refused[1]), 1)).getMessage();
            assertTrue(msg.startsWith((String) refused[2]), msg);
        }
        msg = assertThrows(IllegalArgumentException.class, () -> new PreferencePair(10, "vote 10", prompt,
                new int[] {4}, new int[] {5}, 0, -1, Double.NaN)).getMessage();
        assertTrue(msg.startsWith("vote 10: a pair's weight must be finite and >= 0"), msg);
        // The defaults are no per-pair loss at all.
        assertTrue(!PreferencePair.of(1, "x", prompt, new int[] {4}, new int[] {5}, 0).hasPerPairLoss());
    }

    @Test
    void theProgressBarShowsTheRunningWindowBeforeTheFirstLog() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DpoConfig cfg = config("progress").withOverrides(Map.of("logging_steps", "5", "max_steps", "3"));
        try (PrintStream progress = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            new DpoTrainer(model, cfg, "tiny", progress, 4096).train(ResumeAndPeftTest.randomPairs(4, 67, 7), null,
                    null, null);
        }
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(!out.contains("NaN"), out);
        // Step 1 of 3 logs nothing (logging_steps 5): its bar shows the running loss, which starts at log 2 for
        // sigmoid plus bco_pair's 2 log 2 (the policy starts at the reference).
        String first = out.split("\r")[1];
        assertTrue(first.startsWith("train 1/3 ") && first.contains("loss " + String.format("%.4f", 3 * Math.log(2))),
                first);
        assertEquals(1, Files.readAllLines(tmp.resolve("progress/metrics.jsonl")).size(), "metrics.jsonl: step 3 only");
    }
}
