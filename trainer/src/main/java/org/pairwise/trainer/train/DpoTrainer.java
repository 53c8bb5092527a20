package org.pairwise.trainer.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.pairwise.accel.Backend;
import org.pairwise.model.engine.LlamaModel;
import org.pairwise.model.engine.SequenceScorer;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.model.lora.LoraConfig;
import org.pairwise.model.lora.LoraGradients;
import org.pairwise.trainer.config.DpoConfig;
import org.pairwise.trainer.data.PreferenceExample;
import org.pairwise.trainer.data.Truncation;
import org.pairwise.trainer.dpo.DpoLoss;
import org.pairwise.trainer.dpo.DpoMetrics;
import org.pairwise.trainer.dpo.RunningMoments;
import org.pairwise.trainer.optim.AdamW;
import org.pairwise.trainer.optim.LrSchedule;

/**
 * Offline DPO on LoRA adapters, the counterpart of TRL's {@code DPOTrainer(...).train()}: epochs over a seeded
 * shuffle of the pairs, micro-batches of per_device_train_batch_size, an AdamW step every gradient_accumulation_steps
 * micro-batches, metrics under TRL's names every logging_steps into output_dir/metrics.jsonl, a checkpoint every
 * save_steps, and the final adapter in output_dir. A run resumed from a checkpoint takes the same steps as one that
 * never stopped.
 */
public final class DpoTrainer {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** The end of a run: the adapter, the last logged metrics, and how many optimizer steps were skipped. */
    public record Outcome(LoraAdapter adapter, Map<String, Double> lastMetrics, int steps, int skippedSteps) {}

    private final LlamaModel model;
    private final Backend be;
    private final DpoConfig config;
    private final String baseModel;
    private final PrintStream progress;
    private final int batchTokens;

    /**
     * @param baseModel  written into adapter_config.json as base_model_name_or_path
     * @param progress   where the progress bar goes (stderr), or null for none
     * @param batchTokens most positions in one reference-scoring batch
     */
    public DpoTrainer(LlamaModel model, DpoConfig config, String baseModel, PrintStream progress, int batchTokens) {
        this.model = model;
        this.be = model.backend();
        this.config = config;
        this.baseModel = baseModel;
        this.progress = progress;
        this.batchTokens = batchTokens;
    }

    /**
     * @param initial    an adapter to continue training (it then also serves, frozen, as the reference), or null
     *                   for a fresh one
     * @param resumeFrom a checkpoint-N directory of an earlier run with this configuration, or null
     */
    public Outcome train(List<PreferenceExample> trainData, List<PreferenceExample> evalData, LoraAdapter initial,
                         Path resumeFrom) throws IOException {
        Truncation truncation = config.truncation();
        List<Truncation.Pair> pairs = trainData.stream().map(truncation::apply).toList();
        List<Truncation.Pair> evalPairs = evalData == null ? List.of() : evalData.stream().map(truncation::apply).toList();
        int bs = config.perDeviceTrainBatchSize(), accum = config.gradientAccumulationSteps();
        int microPerEpoch = (pairs.size() + bs - 1) / bs;
        int stepsPerEpoch = (microPerEpoch + accum - 1) / accum;
        int total = config.maxSteps() > 0 ? config.maxSteps()
                : (int) Math.ceil(config.numTrainEpochs() * stepsPerEpoch);
        LrSchedule schedule = config.lrSchedule(total);

        LoraConfig lc = new LoraConfig(config.loraR(), config.loraAlpha(), config.loraTargetModules(),
                config.loraDropout(), config.useRslora(), baseModel);
        LoraAdapter reference = initial == null ? null : initial.copy(be);
        LoraAdapter adapter = resumeFrom != null ? LoraAdapter.load(resumeFrom, model.config(), be)
                : initial != null ? initial : LoraAdapter.create(lc, model.config(), be, config.seed());
        LoraGradients grads = new LoraGradients(adapter, model.config(), be);
        AdamW optimizer = new AdamW(be, adapter.parameters(), grads.tensors(), config.adamBeta1(), config.adamBeta2(),
                config.adamEpsilon(), config.weightDecay(), config.maxGradNorm());
        DpoLoss loss = new DpoLoss(config.lossParams());
        ReferenceLogps refLogps = new ReferenceLogps(new SequenceScorer(model, batchTokens), reference, 1 << 20);
        DpoStep step = new DpoStep(model, adapter, grads, loss, refLogps, config.gradientCheckpointing());

        Path out = Path.of(config.outputDir());
        Files.createDirectories(out);
        Files.writeString(out.resolve("training_config.json"), config.toJson());
        Path metricsFile = out.resolve("metrics.jsonl");

        int globalStep = 0, epochIndex = 0, microInEpoch = 0;
        long numTokens = 0;
        List<Map<String, Object>> history = new ArrayList<>();
        if (resumeFrom != null) {
            TrainerCheckpoint.State st = TrainerCheckpoint.load(resumeFrom, adapter, optimizer, be);
            globalStep = st.globalStep();
            epochIndex = st.epochIndex();
            microInEpoch = st.microBatchesInEpoch();
            numTokens = st.numTokens();
            history.addAll(st.logHistory());
            if (!st.bcoMoments().isEmpty()) {
                loss.moments().restore(new RunningMoments.State(st.bcoMoments().get("mean"), st.bcoMoments().get("std"),
                        st.bcoMoments().get("var"), st.bcoMoments().get("count")));
            }
        } else {
            Files.deleteIfExists(metricsFile);
        }
        if (config.precomputeRefLogProbs()) {
            refLogps.get(DpoStep.sequences(pairs));
        }

        DpoMetrics metrics = DpoMetrics.train();
        Map<String, Double> last = Map.of();
        long started = System.nanoTime();
        int startStep = globalStep;
        while (globalStep < total) {
            int[] order = Shuffle.permutation(pairs.size(), config.seed(), epochIndex);
            while (globalStep < total && microInEpoch < microPerEpoch) {
                for (int k = 0; k < accum && microInEpoch < microPerEpoch; k++, microInEpoch++) {
                    List<Truncation.Pair> batch = new ArrayList<>(bs);
                    for (int i = microInEpoch * bs; i < Math.min(pairs.size(), (microInEpoch + 1) * bs); i++) {
                        batch.add(pairs.get(order[i]));
                    }
                    DpoStep.Result r = step.run(batch, 1.0 / accum, true);
                    numTokens += r.tokens();
                    if (Double.isFinite(r.out().loss)) {
                        metrics.addMicroBatch(r.batch(), r.out(), r.logits());
                    }
                }
                double lr = schedule.lr(globalStep);
                AdamW.StepResult applied = optimizer.step(lr);
                grads.zero();
                globalStep++;
                double epoch = epochIndex + (double) microInEpoch / microPerEpoch;
                metrics.setGradNorm(applied.gradNorm());
                // transformers logs the scheduler's rate after its step: the rate the next update will use.
                metrics.setLearningRate(schedule.lr(globalStep));
                metrics.setEpoch(epoch);
                metrics.setNumTokens(numTokens);
                if (!applied.applied() && progress != null) {
                    progress.printf("%nstep %d skipped: gradient norm %s is not finite%n", globalStep,
                            applied.gradNorm());
                }
                if (globalStep % config.loggingSteps() == 0 || globalStep == total) {
                    last = metrics.snapshot();
                    Map<String, Object> line = new LinkedHashMap<>();
                    line.put("step", globalStep);
                    line.putAll(last);
                    history.add(line);
                    Files.writeString(metricsFile, MAPPER.writeValueAsString(line) + "\n", StandardCharsets.UTF_8,
                            StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                    metrics.reset();
                }
                if (!evalPairs.isEmpty() && globalStep % config.effectiveEvalSteps() == 0) {
                    Map<String, Object> line = new LinkedHashMap<>();
                    line.put("step", globalStep);
                    line.putAll(evaluate(step, evalPairs, epoch));
                    history.add(line);
                    Files.writeString(metricsFile, MAPPER.writeValueAsString(line) + "\n", StandardCharsets.UTF_8,
                            StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                }
                if (config.saveSteps() > 0 && globalStep % config.saveSteps() == 0) {
                    RunningMoments.State m = loss.moments().state();
                    Map<String, Double> bco = Map.of("mean", m.mean(), "std", m.std(), "var", m.var(), "count", m.count());
                    TrainerCheckpoint.save(out.resolve("checkpoint-" + globalStep), adapter, optimizer,
                            new TrainerCheckpoint.State(globalStep, optimizer.skippedSteps(), epochIndex, microInEpoch,
                                    epoch, numTokens, bco, history, 0, 0), be);
                }
                progress(globalStep, total, startStep, started, last);
            }
            if (microInEpoch >= microPerEpoch) {
                epochIndex++;
                microInEpoch = 0;
            }
        }
        adapter.save(out, be);
        if (progress != null) {
            progress.println();
        }
        return new Outcome(adapter, last, globalStep, optimizer.skippedSteps());
    }

    private Map<String, Double> evaluate(DpoStep step, List<Truncation.Pair> evalPairs, double epoch) {
        DpoMetrics m = DpoMetrics.eval();
        int bs = config.perDeviceEvalBatchSize();
        for (int i = 0; i < evalPairs.size(); i += bs) {
            DpoStep.Result r = step.run(evalPairs.subList(i, Math.min(evalPairs.size(), i + bs)), 0, false);
            m.addMicroBatch(r.batch(), r.out(), r.logits());
        }
        m.setEpoch(epoch);
        return m.snapshot();
    }

    private void progress(int step, int total, int startStep, long started, Map<String, Double> last) {
        if (progress == null) {
            return;
        }
        int width = 30, filled = (int) ((long) width * step / total);
        double perStep = (System.nanoTime() - started) / 1e9 / Math.max(1, step - startStep);
        progress.printf("\r%s %d/%d [%s%s] loss %.4f acc %.2f %.2f s/step", "train", step, total,
                "#".repeat(filled), ".".repeat(width - filled), last.getOrDefault("loss", Double.NaN),
                last.getOrDefault("rewards/accuracies", Double.NaN), perStep);
        progress.flush();
    }
}
