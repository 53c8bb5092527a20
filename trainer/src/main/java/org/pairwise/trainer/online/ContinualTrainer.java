package org.pairwise.trainer.online;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.pairwise.model.engine.LlamaModel;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.trainer.config.DpoConfig;
import org.pairwise.trainer.data.InMemoryReplay;
import org.pairwise.trainer.data.PreferencePair;
import org.pairwise.trainer.data.ReplaySource;
import org.pairwise.trainer.dpo.DpoMetrics;
import org.pairwise.trainer.optim.LrSchedule;
import org.pairwise.trainer.train.DpoSession;
import org.pairwise.trainer.train.DpoStep;
import org.pairwise.trainer.train.TrainerCheckpoint;

/**
 * DPO on a live stream of votes, a loop over a {@link DpoSession}: each call to {@link #step} takes one optimizer step
 * on the pairs it is given (up to per_device_train_batch_size x gradient_accumulation_steps of them, fewer when the
 * caller's time window closed) plus replay_pairs_per_step pairs of earlier steps from a {@link ReplaySource}, every
 * publish_every steps hands out an immutable copy of the adapter as the next policy version, and every save_steps
 * writes a checkpoint that records the last vote trained on and the replay source's state, so a restart resumes
 * exactly after it. Not thread-safe: one trainer thread calls it.
 */
public final class ContinualTrainer {
    /**
     * What a step did: its metrics under TRL's names (plus off_policy_age and policy_version), the new policy when
     * this step published one (else null), the last vote id it consumed, and the checkpoint it wrote (else null).
     */
    /** The in-memory replay buffer's capacity when replay is on and no source is given. */
    public static final int DEFAULT_REPLAY_CAPACITY = 1000;

    public record StepReport(int step, Map<String, Double> metrics, int policyVersion, LoraAdapter published,
                             long lastVoteId, boolean applied, Path checkpoint) {}

    /** The state a restart continues from. */
    public record Resumed(int step, int policyVersion, long lastVoteId, LoraAdapter policy, long queuePosition) {}

    private final DpoConfig config;
    private final int publishEvery;
    private final Path checkpointRoot;
    private final int keepCheckpoints;
    private final DpoSession session;

    /**
     * @param initial        an adapter to start from (also the frozen reference), or null for a fresh one
     * @param checkpointRoot where checkpoint-N directories go
     */
    public ContinualTrainer(LlamaModel model, DpoConfig config, int publishEvery, Path checkpointRoot,
                            int keepCheckpoints, String baseModel, LoraAdapter initial) {
        this(model, config, publishEvery, checkpointRoot, keepCheckpoints, baseModel, initial, null);
    }

    /**
     * @param replay where replayed pairs come from when replay_pairs_per_step &gt; 0 (the server's store); null: an
     *               {@link InMemoryReplay} seeded by the config's seed, holding {@link #DEFAULT_REPLAY_CAPACITY}
     */
    public ContinualTrainer(LlamaModel model, DpoConfig config, int publishEvery, Path checkpointRoot,
                            int keepCheckpoints, String baseModel, LoraAdapter initial, ReplaySource replay) {
        if (publishEvery < 1) {
            throw new IllegalArgumentException("publish_every must be >= 1, got " + publishEvery);
        }
        this.config = config;
        this.publishEvery = publishEvery;
        this.checkpointRoot = checkpointRoot;
        this.keepCheckpoints = keepCheckpoints;
        this.session = DpoSession.start(model, config, schedule(config), baseModel, initial,
                DpoSession.Options.continual());
        if (config.replayPairsPerStep() > 0) {
            session.useReplay(replay != null ? replay : new InMemoryReplay(config.seed(), DEFAULT_REPLAY_CAPACITY));
        }
    }

    // The stream has no end, so no decay: a constant rate after any warmup steps.
    private static LrSchedule schedule(DpoConfig config) {
        int warmup = LrSchedule.warmupSteps(Integer.MAX_VALUE / 2, config.warmupSteps(), 0);
        return new LrSchedule(LrSchedule.Kind.CONSTANT_WITH_WARMUP, config.learningRate(), Integer.MAX_VALUE / 2,
                warmup);
    }

    /** Votes one step takes when enough are waiting. */
    public int votesPerStep() {
        return config.perDeviceTrainBatchSize() * config.gradientAccumulationSteps();
    }

    /** Restores the newest checkpoint under the root, if any (a fresh start returns step 0, version 0, vote 0). */
    public Resumed resume() throws IOException {
        Path latest = TrainerCheckpoint.latest(checkpointRoot);
        if (latest == null) {
            return new Resumed(0, 0, 0, null, 0);
        }
        session.restore(latest);
        int version = policyVersion();
        return new Resumed(session.steps(), version, lastVoteId(), version == 0 ? null : session.snapshot(),
                queuePosition());
    }

    /**
     * One optimizer step on these pairs (in vote order; at most {@link #votesPerStep()}) and the replayed ones: the
     * step's loss is the mean over all of them (each pair's weight decayed by its age when vote_decay_gamma &lt; 1).
     */
    public StepReport step(List<PreferencePair> votes) throws IOException {
        return step(votes, votes.isEmpty() ? 0 : votes.getLast().id());
    }

    /**
     * Like {@link #step(List)}, for a stream with a queue of its own: {@code queuePosition} is where the queue stands
     * after these pairs (the server's training_items id), checkpointed with the last pair's id.
     */
    public StepReport step(List<PreferencePair> votes, long queuePosition) throws IOException {
        if (votes.isEmpty() || votes.size() > votesPerStep()) {
            throw new IllegalArgumentException("a step takes 1.." + votesPerStep() + " votes, got " + votes.size());
        }
        int policyVersion = policyVersion();
        double age = 0;
        for (PreferencePair v : votes) {
            age += policyVersion - v.policyVersion();
        }
        List<PreferencePair> replayed = session.drawReplay();
        List<PreferencePair> pairs = new ArrayList<>(votes);
        pairs.addAll(replayed);
        DpoMetrics metrics = DpoMetrics.train();
        int bs = config.perDeviceTrainBatchSize();
        for (int i = 0; i < pairs.size(); i += bs) {
            List<PreferencePair> micro = pairs.subList(i, Math.min(pairs.size(), i + bs));
            // Each micro-batch's loss is a mean over its pairs; weighting by its share makes the step's gradient
            // the mean over all its pairs, however the window split them.
            DpoStep.Result r = session.accumulate(micro, (double) micro.size() / pairs.size());
            if (Double.isFinite(r.out().loss)) {
                metrics.addMicroBatch(r.batch(), r.out(), r.logits());
            }
        }
        DpoSession.Step applied = session.optimizerStep();
        session.trained(votes);
        LoraAdapter published = null;
        if (applied.applied() && applied.globalStep() % publishEvery == 0) {
            policyVersion++;
            published = session.snapshot();
        }
        session.setPosition(DpoSession.Position.online(votes.getLast().id(), policyVersion, queuePosition));
        metrics.setGradNorm(applied.gradNorm());
        metrics.setLearningRate(applied.learningRate());
        metrics.setNumTokens(session.numTokens());
        Map<String, Double> m = new LinkedHashMap<>(metrics.snapshot());
        m.put("off_policy_age", age / votes.size());
        m.put("policy_version", (double) policyVersion);
        m.put("votes", (double) votes.size());
        if (config.replayPairsPerStep() > 0) {
            m.put("replay_pairs", (double) replayed.size());
        }
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("step", applied.globalStep());
        line.putAll(m);
        // Where the stream stood after this step, kept with the step log in the checkpoint: a trainer that resumes
        // from it can show which votes each step of its lineage took.
        line.put("last_vote_id", votes.getLast().id());
        line.put("last_item_id", queuePosition);
        session.log(line);
        Path checkpoint = session.checkpointDue() ? checkpoint() : null;
        return new StepReport(applied.globalStep(), m, policyVersion, published, lastVoteId(), applied.applied(),
                checkpoint);
    }

    /** Writes checkpoint-N now (also called on a clean shutdown), keeps only the newest few, and returns it. */
    public Path checkpoint() throws IOException {
        Files.createDirectories(checkpointRoot);
        Path dir = session.checkpoint(checkpointRoot);
        pruneCheckpoints();
        return dir;
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
        return session.steps();
    }

    public int policyVersion() {
        return session.position().policyVersion();
    }

    public long lastVoteId() {
        return session.position().lastPairId();
    }

    /** Where the stream's queue stands after the last step (see {@link #step(List, long)}). */
    public long queuePosition() {
        return session.position().queuePosition();
    }

    /** The training adapter itself (mutable; copy it to publish). */
    public LoraAdapter adapter() {
        return session.adapter();
    }

    /** Logged steps so far, newest last (the newest 1000). */
    public List<Map<String, Object>> history() {
        return session.logHistory();
    }
}
