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
import org.pairwise.model.engine.LlamaModel;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.trainer.config.DpoConfig;
import org.pairwise.trainer.data.PreferencePair;
import org.pairwise.trainer.dpo.DpoMetrics;

/**
 * Offline DPO on LoRA adapters, the counterpart of TRL's {@code DPOTrainer(...).train()}: epochs over a seeded
 * shuffle of the pairs, micro-batches of per_device_train_batch_size, an AdamW step every gradient_accumulation_steps
 * micro-batches, metrics under TRL's names every logging_steps into output_dir/metrics.jsonl, a checkpoint every
 * save_steps, and the final adapter in output_dir; a loop over a {@link DpoSession}. A run resumed from a checkpoint
 * takes the same steps as one that never stopped.
 *
 * <p>As transformers 5's Trainer: a step's micro-batch losses are divided by the number of micro-batches it has (fewer
 * than gradient_accumulation_steps at the end of an epoch that does not divide evenly), the logged {@code loss} is the
 * mean of the steps' losses since the last log (a non-finite micro-batch loss counts as the window's mean so far, its
 * logging_nan_inf_filter), and {@code learning_rate} is the rate of the step just taken.
 */
public final class DpoTrainer {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /**
     * The end of a run: the adapter, the last logged metrics, how many optimizer steps were skipped, and TRL's
     * run-level figures.
     */
    public record Outcome(LoraAdapter adapter, Map<String, Double> lastMetrics, int steps, int skippedSteps,
                          RunFigures run) {}

    /**
     * The figures transformers' Trainer logs when {@code train()} ends, with its definitions: {@code train_runtime}
     * the seconds of the training loop (from after the data and any precomputed reference log-probs are ready to
     * after the last step; rounded to 4 decimals), {@code train_samples_per_second} the run's samples (max_steps x
     * batch x accumulation when max_steps is set, else pairs x num_train_epochs) per second and
     * {@code train_steps_per_second} its optimizer steps per second (3 decimals), {@code train_loss} the sum of the
     * steps' losses over the global step. As in transformers, a resumed run counts the whole run's samples and steps
     * against its own runtime, and sums only its own steps' losses.
     */
    public record RunFigures(double trainRuntime, double trainSamplesPerSecond, double trainStepsPerSecond,
                             double trainLoss, double epoch) {
        static RunFigures of(double seconds, double samples, int steps, double lossSum, int globalStep,
                             double epoch) {
            return new RunFigures(round(seconds, 4), round(samples / seconds, 3), round(steps / seconds, 3),
                    lossSum / Math.max(globalStep, 0.001), epoch);
        }

        /** Under TRL's names, in its order. */
        public Map<String, Double> toMap() {
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("train_runtime", trainRuntime);
            m.put("train_samples_per_second", trainSamplesPerSecond);
            m.put("train_steps_per_second", trainStepsPerSecond);
            m.put("train_loss", trainLoss);
            m.put("epoch", epoch);
            return m;
        }

        private static double round(double v, int decimals) {
            return java.math.BigDecimal.valueOf(v).setScale(decimals, java.math.RoundingMode.HALF_EVEN).doubleValue();
        }
    }

    private final LlamaModel model;
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
        this.config = config;
        this.baseModel = baseModel;
        this.progress = progress;
        this.batchTokens = batchTokens;
    }

    /**
     * @param initial    an adapter to continue training (a frozen copy of it then serves as the reference), or null
     *                   for a fresh one
     * @param resumeFrom a checkpoint-N directory of an earlier run with this configuration, or null
     */
    public Outcome train(List<PreferencePair> trainData, List<PreferencePair> evalData, LoraAdapter initial,
                         Path resumeFrom) throws IOException {
        if (config.replayPairsPerStep() > 0) {
            throw new IllegalArgumentException("replay_pairs_per_step: a replay buffer is for continual training "
                    + "(serve); offline epochs already revisit every pair");
        }
        List<PreferencePair> evalPairs = evalData == null ? List.of() : evalData;
        int n = trainData.size(), bs = config.perDeviceTrainBatchSize(), accum = config.gradientAccumulationSteps();
        int microPerEpoch = (n + bs - 1) / bs;
        int stepsPerEpoch = (microPerEpoch + accum - 1) / accum;
        int total = config.maxSteps() > 0 ? config.maxSteps()
                : (int) Math.ceil(config.numTrainEpochs() * stepsPerEpoch);
        DpoSession session = DpoSession.start(model, config, config.lrSchedule(total), baseModel, initial,
                DpoSession.Options.offline(batchTokens));

        Path out = Path.of(config.outputDir());
        Files.createDirectories(out);
        Files.writeString(out.resolve("training_config.json"), config.toJson());
        Path metricsFile = out.resolve("metrics.jsonl");
        if (resumeFrom != null) {
            session.restore(resumeFrom);
        } else {
            Files.deleteIfExists(metricsFile);
        }
        if (config.precomputeRefLogProbs()) {
            session.scoreReference(trainData);
        }
        int epochIndex = session.position().epochIndex(), microInEpoch = session.position().microBatchesInEpoch();

        DpoMetrics metrics = DpoMetrics.train();
        Map<String, Double> last = Map.of();
        long started = System.nanoTime();
        int startStep = session.steps(), windowSteps = 0;
        double windowLoss = 0, runLoss = 0, epoch = session.position().epoch();
        while (session.steps() < total) {
            int[] order = Shuffle.permutation(n, config.seed(), epochIndex);
            while (session.steps() < total && microInEpoch < microPerEpoch) {
                int micro = Math.min(accum, microPerEpoch - microInEpoch);
                for (int k = 0; k < micro; k++, microInEpoch++) {
                    List<PreferencePair> batch = new ArrayList<>(bs);
                    for (int i = microInEpoch * bs; i < Math.min(n, (microInEpoch + 1) * bs); i++) {
                        batch.add(trainData.get(order[i]));
                    }
                    DpoStep.Result r = session.accumulate(batch, 1.0 / micro);
                    if (Double.isFinite(r.out().loss)) {
                        metrics.addMicroBatch(r.batch(), r.out(), r.logits());
                        windowLoss += r.out().loss / micro;
                    } else {
                        windowLoss += windowLoss / (1 + windowSteps);
                    }
                }
                DpoSession.Step applied = session.optimizerStep();
                int globalStep = applied.globalStep();
                windowSteps++;
                epoch = epochIndex + (double) microInEpoch / microPerEpoch;
                session.setPosition(DpoSession.Position.offline(epochIndex, microInEpoch, epoch));
                metrics.setGradNorm(applied.gradNorm());
                metrics.setLearningRate(applied.learningRate());
                metrics.setEpoch(epoch);
                metrics.setNumTokens(session.numTokens());
                if (!applied.applied() && progress != null) {
                    progress.printf("%nstep %d skipped: gradient norm %s is not finite%n", globalStep,
                            applied.gradNorm());
                }
                if (globalStep % config.loggingSteps() == 0 || globalStep == total) {
                    last = metrics.snapshot();
                    if (last.containsKey("loss")) {
                        last.put("loss", windowLoss / windowSteps);
                    }
                    appendLog(session, metricsFile, globalStep, last);
                    metrics.reset();
                    runLoss += windowLoss;
                    windowLoss = 0;
                    windowSteps = 0;
                }
                if (!evalPairs.isEmpty() && globalStep % config.effectiveEvalSteps() == 0) {
                    appendLog(session, metricsFile, globalStep, evaluate(session, evalPairs, epoch));
                }
                if (session.checkpointDue()) {
                    session.checkpoint(out);
                }
                // Until the first log, the bar shows the running values of the logging window under way.
                progress(globalStep, total, startStep, started, metrics.count() > 0 ? metrics.snapshot() : last);
            }
            if (microInEpoch >= microPerEpoch) {
                epochIndex++;
                microInEpoch = 0;
            }
        }
        double samples = config.maxSteps() > 0 ? (double) config.maxSteps() * bs * accum : n * config.numTrainEpochs();
        RunFigures run = RunFigures.of((System.nanoTime() - started) / 1e9, samples, total, runLoss + windowLoss,
                session.steps(), epoch);
        session.saveAdapter(out);
        // transformers' save_metrics("train", ...) file, which TRL's example scripts write
        Files.writeString(out.resolve("train_results.json"), MAPPER.writeValueAsString(run.toMap()));
        if (progress != null) {
            progress.println();
        }
        return new Outcome(session.adapter(), last, session.steps(), session.skippedSteps(), run);
    }

    // One line of metrics.jsonl, also kept in the log history that checkpoints carry.
    private static void appendLog(DpoSession session, Path metricsFile, int step, Map<String, Double> metrics)
            throws IOException {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("step", step);
        line.putAll(metrics);
        session.log(line);
        Files.writeString(metricsFile, MAPPER.writeValueAsString(line) + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private Map<String, Double> evaluate(DpoSession session, List<PreferencePair> evalPairs, double epoch) {
        DpoMetrics m = DpoMetrics.eval();
        int bs = config.perDeviceEvalBatchSize();
        for (int i = 0; i < evalPairs.size(); i += bs) {
            DpoStep.Result r = session.evaluate(evalPairs.subList(i, Math.min(evalPairs.size(), i + bs)));
            m.addMicroBatch(r.batch(), r.out(), r.logits());
        }
        m.setEpoch(epoch);
        return m.snapshot();
    }

    private void progress(int step, int total, int startStep, long started, Map<String, Double> shown) {
        if (progress == null) {
            return;
        }
        int width = 30, filled = (int) ((long) width * step / total);
        double perStep = (System.nanoTime() - started) / 1e9 / Math.max(1, step - startStep);
        progress.printf("\r%s %d/%d [%s%s] loss %s acc %s %.2f s/step", "train", step, total,
                "#".repeat(filled), ".".repeat(width - filled), format(shown.get("loss"), "%.4f"),
                format(shown.get("rewards/accuracies"), "%.2f"), perStep);
        progress.flush();
    }

    // "-" until there is a value: no micro-batch with a finite loss yet.
    private static String format(Double v, String pattern) {
        return v == null ? "-" : String.format(pattern, v);
    }
}
