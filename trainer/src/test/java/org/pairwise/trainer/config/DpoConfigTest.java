package org.pairwise.trainer.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.trainer.data.Truncation;
import org.pairwise.trainer.dpo.LossType;
import org.pairwise.trainer.optim.LrSchedule;

class DpoConfigTest {
    @TempDir
    Path dir;

    @Test
    void defaultsAreTrlsDefaults() {
        DpoConfig c = DpoConfig.defaults();
        assertEquals(0.1, c.beta());
        assertEquals(List.of(LossType.SIGMOID), c.lossType());
        assertEquals(0.0, c.labelSmoothing());
        assertEquals(1e-6, c.learningRate());
        assertEquals(8, c.perDeviceTrainBatchSize());
        assertEquals(1, c.gradientAccumulationSteps());
        assertEquals(3.0, c.numTrainEpochs());
        assertEquals(-1, c.maxSteps());
        assertEquals(LrSchedule.Kind.LINEAR, c.lrSchedulerType());
        assertEquals(10, c.loggingSteps());
        assertEquals(500, c.saveSteps());
        assertEquals(1024, c.maxLength());
        assertNull(c.maxPromptLength());
        assertEquals(Truncation.Mode.KEEP_START, c.truncationMode());
        assertEquals(1.0, c.maxGradNorm());
        assertEquals(0.9, c.adamBeta1());
        assertEquals(0.999, c.adamBeta2());
        assertEquals(1e-8, c.adamEpsilon());
        assertEquals(42, c.seed());
        assertEquals(true, c.gradientCheckpointing());
        assertEquals(0.05, c.discopopTau());
        assertEquals(16, c.loraR());
        assertEquals(32, c.loraAlpha());
        assertEquals(2.0, c.loraScaling());
        assertEquals(DpoConfig.LORA_MODULES, c.loraTargetModules());
        assertEquals(10, c.effectiveEvalSteps());
    }

    @Test
    void fileThenEnvThenFlagsJson() throws IOException {
        Path f = dir.resolve("dpo.json");
        Files.writeString(f, """
                {"beta": 0.2, "learning_rate": 5e-6, "logging_steps": 5, "max_length": null,
                 "loss_type": ["sigmoid", "sft"], "loss_weights": [1.0, 0.5]}
                """);
        Map<String, String> env = Map.of("PAIRWISE_BETA", "0.3", "PAIRWISE_LOGGING_STEPS", "7",
                "PAIRWISE_PORT", "8080", "HOME", "/root");  // unrelated variables are ignored
        DpoConfig c = DpoConfig.load(f, env, Map.of("beta", "0.4"));
        assertEquals(0.4, c.beta());  // flag over env over file
        assertEquals(7, c.loggingSteps());  // env over file
        assertEquals(5e-6, c.learningRate());  // file over default
        assertNull(c.maxLength());
        assertEquals(List.of(LossType.SIGMOID, LossType.SFT), c.lossType());
        assertEquals(List.of(1.0, 0.5), c.lossWeights());
        assertEquals(8, c.perDeviceTrainBatchSize());  // untouched default
    }

    @Test
    void yamlFileWithFlagsInKebabCase() throws IOException {
        Path f = dir.resolve("dpo.yaml");
        Files.writeString(f, """
                beta: 0.25
                learning_rate: 1e-5   # YAML 1.1 reads this as a string; parsed as a number all the same
                per_device_train_batch_size: 2
                gradient_accumulation_steps: 4
                loss_type: ipo
                truncation_mode: keep_end
                max_prompt_length: 512
                lora_target_modules: [q_proj, v_proj]
                use_rslora: true
                """);
        DpoConfig c = DpoConfig.load(f, Map.of(), Map.of("lr-scheduler-type", "cosine", "warmup-ratio", "0.1",
                "max-length", "none"));
        assertEquals(0.25, c.beta());
        assertEquals(1e-5, c.learningRate());
        assertEquals(2, c.perDeviceTrainBatchSize());
        assertEquals(4, c.gradientAccumulationSteps());
        assertEquals(List.of(LossType.IPO), c.lossType());
        assertEquals(Truncation.Mode.KEEP_END, c.truncationMode());
        assertEquals(512, c.maxPromptLength());
        assertNull(c.maxLength());
        assertEquals(List.of("q_proj", "v_proj"), c.loraTargetModules());
        assertEquals(32 / 4.0, c.loraScaling());  // rsLoRA: alpha / √16
        assertEquals(LrSchedule.Kind.COSINE, c.lrSchedulerType());
        assertEquals(10, c.lrSchedule(100).warmupSteps());
    }

    @Test
    void withParsesEachFieldType() {
        DpoConfig c = DpoConfig.defaults()
                .with("loss-type", "sigmoid,bco_pair,sft")
                .with("loss_weights", "[0.8, 0.2, 1.0]")
                .with("gradient-checkpointing", "false")
                .with("precompute_ref_log_probs", "yes")
                .with("output-dir", "./dpo_results")
                .with("lora-target-modules", "all-linear")
                .with("num-train-epochs", "1.5");
        assertEquals(List.of(LossType.SIGMOID, LossType.BCO_PAIR, LossType.SFT), c.lossType());
        assertEquals(List.of(0.8, 0.2, 1.0), c.lossWeights());
        assertEquals(false, c.gradientCheckpointing());
        assertEquals(true, c.precomputeRefLogProbs());
        assertEquals("./dpo_results", c.outputDir());
        assertEquals(DpoConfig.LORA_MODULES, c.loraTargetModules());
        assertEquals(1.5, c.numTrainEpochs());
        assertEquals(c.lossWeights(), c.lossParams().weights());
    }

    @Test
    void jsonRoundTrips() {
        DpoConfig c = DpoConfig.defaults().withOverrides(Map.of("beta", "0.5", "loss_type", "robust",
                "label_smoothing", "0.1", "max_prompt_length", "128", "truncation_mode", "keep_end",
                "lr_scheduler_type", "constant_with_warmup", "lora_target_modules", "q_proj,down_proj"));
        String json = c.toJson();
        assertTrue(json.contains("\"loss_type\" : [ \"robust\" ]"), json);
        assertTrue(json.contains("\"truncation_mode\" : \"keep_end\""), json);
        assertTrue(json.contains("\"max_completion_length\" : null"), json);
        assertEquals(c, DpoConfig.fromJson(json));
        assertEquals(DpoConfig.fieldNames().size(), DpoConfig.class.getRecordComponents().length);
        assertTrue(DpoConfig.fieldNames().contains("per_device_train_batch_size"));
    }

    @Test
    void unknownKeysAreRejectedByName() throws IOException {
        Path f = dir.resolve("bad.json");
        Files.writeString(f, "{\"beta\": 0.1, \"betta\": 0.2}");
        assertMessage(() -> DpoConfig.defaults().withFile(f), "betta");
        assertMessage(() -> DpoConfig.defaults().with("learning-rat", "1e-6"), "learning-rat");
    }

    @Test
    void badValuesNameTheirField() throws IOException {
        Path f = dir.resolve("bad.yaml");
        Files.writeString(f, "beta: abc\n");
        assertMessage(() -> DpoConfig.defaults().withFile(f), "beta");
        assertMessage(() -> DpoConfig.defaults().with("per-device-train-batch-size", "0"),
                "per_device_train_batch_size");
        assertMessage(() -> DpoConfig.defaults().with("logging_steps", "2.5"), "logging_steps");
        assertMessage(() -> DpoConfig.defaults().withEnv(Map.of("PAIRWISE_LEARNING_RATE", "fast")),
                "PAIRWISE_LEARNING_RATE: learning_rate");
        assertMessage(() -> DpoConfig.defaults().with("loss_type", "exo_pair"), "label_smoothing");
        assertMessage(() -> DpoConfig.defaults().with("loss_type", "dpo"), "loss_type");
        assertMessage(() -> DpoConfig.defaults().with("lora_target_modules", "lm_head"), "lora_target_modules");
        assertMessage(() -> DpoConfig.defaults().with("beta", "-1"), "beta");
        assertMessage(() -> DpoConfig.defaults().with("warmup_ratio", "1.5"), "warmup_ratio");
        assertMessage(() -> DpoConfig.defaults().with("seed", "none"), "seed");
        assertMessage(() -> DpoConfig.fromJson("{\"max_length\": [1, 2]}"), "max_length");
    }

    @Test
    void continualTrainingFieldsDefaultOffAndValidate() {
        DpoConfig d = DpoConfig.defaults();
        // TRL's DPOConfig defaults for TR-DPO; ours off.
        assertEquals(false, d.syncRefModel());
        assertEquals(0.6, d.refModelMixupAlpha());
        assertEquals(512, d.refModelSyncSteps());
        assertEquals(0, d.replayPairsPerStep());
        assertEquals(1.0, d.voteDecayGamma());
        DpoConfig on = d.withOverrides(Map.of("sync-ref-model", "true", "ref_model_mixup_alpha", "1",
                "ref_model_sync_steps", "8", "replay_pairs_per_step", "3", "vote_decay_gamma", "0.9"));
        assertEquals(on, DpoConfig.fromJson(on.toJson()));
        assertMessage(() -> d.with("ref_model_mixup_alpha", "1.5"), "ref_model_mixup_alpha");
        assertMessage(() -> d.with("ref_model_sync_steps", "0"), "ref_model_sync_steps");
        assertMessage(() -> d.with("replay_pairs_per_step", "-1"), "replay_pairs_per_step");
        assertMessage(() -> d.with("vote_decay_gamma", "0"), "vote_decay_gamma");
        assertMessage(() -> d.with("vote_decay_gamma", "1.1"), "vote_decay_gamma");
        assertMessage(() -> d.withOverrides(Map.of("loss_type", "aot", "vote_decay_gamma", "0.5")),
                "vote_decay_gamma");
        assertMessage(() -> d.withOverrides(Map.of("sync_ref_model", "true", "precompute_ref_log_probs", "true")),
                "sync_ref_model");
    }

    private static void assertMessage(Executable e, String fragment) {
        String msg = assertThrows(IllegalArgumentException.class, e).getMessage();
        assertTrue(msg.contains(fragment), "'" + msg + "' should name " + fragment);
    }
}
