package org.pairwise.trainer.online;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
import org.pairwise.trainer.train.DpoStep;
import org.pairwise.trainer.train.ReferenceLogps;
import org.pairwise.trainer.train.TrainerCheckpoint;

/**
 * DPO on a live stream of votes: each call to {@link #step} takes one optimizer step on the votes it is given (up to
 * per_device_train_batch_size x gradient_accumulation_steps of them, fewer when the caller's time window closed), every
 * publish_every steps hands out an immutable copy of the adapter as the next policy version, and every save_steps
 * writes a checkpoint that records the last vote trained on, so a restart resumes exactly after it. Not thread-safe:
 * one trainer thread calls it.
 */
public final class ContinualTrainer {
    /** One A/B vote as training data: chosen = the preferred sample's tokens, after the pair's prompt. */
    public record Vote(long voteId, int[] promptIds, int[] chosenIds, int[] rejectedIds, int pairPolicyVersion) {}

    /**
     * What a step did: its metrics under TRL's names (plus off_policy_age and policy_version), the new policy when
     * this step published one (else null), and the last vote id it consumed.
     */
    public record StepReport(int step, Map<String, Double> metrics, int policyVersion, LoraAdapter published,
                             long lastVoteId, boolean applied) {}

    /** The state a restart continues from. */
    public record Resumed(int step, int policyVersion, long lastVoteId, LoraAdapter policy) {}

    private final LlamaModel model;
    private final Backend be;
    private final DpoConfig config;
    private final int publishEvery;
    private final Path checkpointRoot;
    private final int keepCheckpoints;
    private final LoraAdapter adapter;
    private final LoraGradients grads;
    private final AdamW optimizer;
    private final DpoLoss loss;
    private final DpoStep dpo;
    private final LrSchedule schedule;
    private final Truncation truncation;
    private int step;
    private int policyVersion;
    private long lastVoteId;
    private long numTokens;
    private final List<Map<String, Object>> history = new ArrayList<>();

    /**
     * @param initial        an adapter to start from (also the frozen reference), or null for a fresh one
     * @param checkpointRoot where checkpoint-N directories go
     */
    public ContinualTrainer(LlamaModel model, DpoConfig config, int publishEvery, Path checkpointRoot,
                            int keepCheckpoints, String baseModel, LoraAdapter initial) {
        if (publishEvery < 1) {
            throw new IllegalArgumentException("publish_every must be >= 1, got " + publishEvery);
        }
        this.model = model;
        this.be = model.backend();
        this.config = config;
        this.publishEvery = publishEvery;
        this.checkpointRoot = checkpointRoot;
        this.keepCheckpoints = keepCheckpoints;
        LoraConfig lc = new LoraConfig(config.loraR(), config.loraAlpha(), config.loraTargetModules(),
                config.loraDropout(), config.useRslora(), baseModel);
        LoraAdapter reference = initial == null ? null : initial.copy(be);
        this.adapter = initial != null ? initial.copy(be) : LoraAdapter.create(lc, model.config(), be, config.seed());
        this.grads = new LoraGradients(adapter, model.config(), be);
        this.optimizer = new AdamW(be, adapter.parameters(), grads.tensors(), config.adamBeta1(), config.adamBeta2(),
                config.adamEpsilon(), config.weightDecay(), config.maxGradNorm());
        this.loss = new DpoLoss(config.lossParams());
        ReferenceLogps ref = new ReferenceLogps(new SequenceScorer(model, 4096), reference, 1 << 16);
        this.dpo = new DpoStep(model, adapter, grads, loss, ref, config.gradientCheckpointing());
        // The stream has no end, so no decay: a constant rate after any warmup steps.
        int warmup = LrSchedule.warmupSteps(Integer.MAX_VALUE / 2, config.warmupSteps(), 0);
        this.schedule = new LrSchedule(LrSchedule.Kind.CONSTANT_WITH_WARMUP, config.learningRate(),
                Integer.MAX_VALUE / 2, warmup);
        this.truncation = config.truncation();
    }

    /** Votes one step takes when enough are waiting. */
    public int votesPerStep() {
        return config.perDeviceTrainBatchSize() * config.gradientAccumulationSteps();
    }

    /** Restores the newest checkpoint under the root, if any (a fresh start returns step 0, version 0, vote 0). */
    public Resumed resume() throws IOException {
        Path latest = TrainerCheckpoint.latest(checkpointRoot);
        if (latest == null) {
            return new Resumed(0, 0, 0, null);
        }
        LoraAdapter saved = LoraAdapter.load(latest, model.config(), be);
        List<org.pairwise.accel.Tensor> dst = adapter.parameters(), src = saved.parameters();
        for (int i = 0; i < dst.size(); i++) {
            be.copy(dst.get(i), 0, src.get(i), 0, dst.get(i).size());
        }
        TrainerCheckpoint.State st = TrainerCheckpoint.load(latest, adapter, optimizer, be);
        step = st.globalStep();
        policyVersion = st.policyVersion();
        lastVoteId = st.lastVoteId();
        numTokens = st.numTokens();
        history.addAll(st.logHistory());
        if (!st.bcoMoments().isEmpty()) {
            loss.moments().restore(new RunningMoments.State(st.bcoMoments().get("mean"), st.bcoMoments().get("std"),
                    st.bcoMoments().get("var"), st.bcoMoments().get("count")));
        }
        return new Resumed(step, policyVersion, lastVoteId, policyVersion == 0 ? null : adapter.copy(be));
    }

    /** One optimizer step on these votes (in vote order; at most {@link #votesPerStep()}). */
    public StepReport step(List<Vote> votes) throws IOException {
        if (votes.isEmpty() || votes.size() > votesPerStep()) {
            throw new IllegalArgumentException("a step takes 1.." + votesPerStep() + " votes, got " + votes.size());
        }
        List<Truncation.Pair> pairs = new ArrayList<>(votes.size());
        double age = 0;
        for (Vote v : votes) {
            pairs.add(truncation.apply(new PreferenceExample((int) Math.min(Integer.MAX_VALUE, v.voteId()),
                    v.promptIds(), v.chosenIds(), v.rejectedIds())));
            age += policyVersion - v.pairPolicyVersion();
        }
        DpoMetrics metrics = DpoMetrics.train();
        int bs = config.perDeviceTrainBatchSize();
        for (int i = 0; i < pairs.size(); i += bs) {
            List<Truncation.Pair> micro = pairs.subList(i, Math.min(pairs.size(), i + bs));
            // Each micro-batch's loss is a mean over its pairs; weighting by its share makes the step's gradient
            // the mean over all its votes, however the window split them.
            DpoStep.Result r = dpo.run(micro, (double) micro.size() / pairs.size(), true);
            numTokens += r.tokens();
            if (Double.isFinite(r.out().loss)) {
                metrics.addMicroBatch(r.batch(), r.out(), r.logits());
            }
        }
        double lr = schedule.lr(step);
        AdamW.StepResult applied = optimizer.step(lr);
        grads.zero();
        step++;
        lastVoteId = votes.getLast().voteId();
        LoraAdapter published = null;
        if (applied.applied() && step % publishEvery == 0) {
            policyVersion++;
            published = adapter.copy(be);
        }
        metrics.setGradNorm(applied.gradNorm());
        metrics.setLearningRate(schedule.lr(step));
        metrics.setNumTokens(numTokens);
        Map<String, Double> m = new LinkedHashMap<>(metrics.snapshot());
        m.put("off_policy_age", age / votes.size());
        m.put("policy_version", (double) policyVersion);
        m.put("votes", (double) votes.size());
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("step", step);
        line.putAll(m);
        history.add(line);
        if (config.saveSteps() > 0 && step % config.saveSteps() == 0) {
            checkpoint();
        }
        return new StepReport(step, m, policyVersion, published, lastVoteId, applied.applied());
    }

    /** Writes checkpoint-N now (also called on a clean shutdown) and keeps only the newest few. */
    public void checkpoint() throws IOException {
        RunningMoments.State m = loss.moments().state();
        Map<String, Double> bco = Map.of("mean", m.mean(), "std", m.std(), "var", m.var(), "count", m.count());
        Files.createDirectories(checkpointRoot);
        TrainerCheckpoint.save(checkpointRoot.resolve("checkpoint-" + step), adapter, optimizer,
                new TrainerCheckpoint.State(step, optimizer.skippedSteps(), 0, 0, 0, numTokens, bco,
                        history.subList(Math.max(0, history.size() - 1000), history.size()), lastVoteId, policyVersion),
                be);
        pruneCheckpoints();
    }

    private void pruneCheckpoints() throws IOException {
        List<Path> all;
        try (var dirs = Files.list(checkpointRoot)) {
            all = dirs.filter(d -> d.getFileName().toString().matches("checkpoint-\\d+"))
                    .sorted(java.util.Comparator.comparingInt(
                            d -> Integer.parseInt(d.getFileName().toString().substring("checkpoint-".length()))))
                    .toList();
        }
        for (int i = 0; i < all.size() - keepCheckpoints; i++) {
            try (var walk = Files.walk(all.get(i))) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    public int steps() {
        return step;
    }

    public int policyVersion() {
        return policyVersion;
    }

    public long lastVoteId() {
        return lastVoteId;
    }

    /** The training adapter itself (mutable; copy it to publish). */
    public LoraAdapter adapter() {
        return adapter;
    }

    /** Logged steps so far, newest last (bounded). */
    public List<Map<String, Object>> history() {
        return history;
    }
}
