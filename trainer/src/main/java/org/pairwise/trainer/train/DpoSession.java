package org.pairwise.trainer.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.pairwise.accel.Backend;
import org.pairwise.accel.DType;
import org.pairwise.accel.Tensor;
import org.pairwise.model.engine.LlamaModel;
import org.pairwise.model.engine.SequenceScorer;
import org.pairwise.model.engine.SequenceScorer.Score;
import org.pairwise.model.load.SafetensorsWriter;
import org.pairwise.model.load.TensorData;
import org.pairwise.model.load.Tensors;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.model.lora.LoraConfig;
import org.pairwise.model.lora.LoraGradients;
import org.pairwise.trainer.config.DpoConfig;
import org.pairwise.trainer.data.PreferencePair;
import org.pairwise.trainer.data.ReplaySource;
import org.pairwise.trainer.data.Truncation;
import org.pairwise.trainer.dpo.DpoLoss;
import org.pairwise.trainer.dpo.RunningMoments;
import org.pairwise.trainer.optim.AdamW;
import org.pairwise.trainer.optim.LrSchedule;

/**
 * One DPO training run: the LoRA policy it updates, the gradients, AdamW, the loss (with BCO's running moments), the
 * reference log-probs (and, with sync_ref_model, the reference adapter that follows the policy), the learning-rate
 * schedule and the optimizer step count, the replay buffer's source, and the checkpoint that holds all of them with
 * the data stream's position. Offline {@code train}, the continual trainer, {@code bench --dpo} and
 * {@code score --grads-out} are loops over {@link #accumulate} and {@link #optimizerStep}: every pair takes the same
 * path to the gradient, where its weight is decayed by its age (vote_decay_gamma) and checked with its label
 * smoothing against the loss types. Not thread-safe: one thread drives a session.
 */
public final class DpoSession {
    /**
     * Where the data stream stands after an optimizer step. Offline: the epoch, the micro-batches done in it and the
     * fractional epoch; online: the last pair trained on, the policy version published, and the position in the
     * stream's own queue (the server's training_items id; the last pair's id where the stream has no queue of its own).
     */
    public record Position(int epochIndex, int microBatchesInEpoch, double epoch, long lastPairId,
                           int policyVersion, long queuePosition) {
        public static final Position START = new Position(0, 0, 0, 0, 0, 0);

        public static Position offline(int epochIndex, int microBatchesInEpoch, double epoch) {
            return new Position(epochIndex, microBatchesInEpoch, epoch, 0, 0, 0);
        }

        public static Position online(long lastPairId, int policyVersion) {
            return online(lastPairId, policyVersion, lastPairId);
        }

        public static Position online(long lastPairId, int policyVersion, long queuePosition) {
            return new Position(0, 0, 0, lastPairId, policyVersion, queuePosition);
        }
    }

    /**
     * What an optimizer step did: the step count after it, the gradient norm before clipping (TRL's grad_norm),
     * whether it was applied (a non-finite gradient skips it), and the rate it was taken at, which is what
     * transformers 5 logs as learning_rate (it reads the rate before the scheduler steps).
     */
    public record Step(int globalStep, double gradNorm, boolean applied, double learningRate) {}

    /** The reference scorer's position budget, its cache bound, and how many log lines a checkpoint keeps. */
    public record Options(int referenceBatchTokens, long referenceCacheEntries, int logHistory) {
        /** A data set: its reference log-probs cached, and the whole log history (as transformers keeps it). */
        public static Options offline(int referenceBatchTokens) {
            return new Options(referenceBatchTokens, 1 << 20, Integer.MAX_VALUE);
        }

        /** A stream without end: a bounded cache and the newest 1000 log lines. */
        public static Options continual() {
            return new Options(4096, 1 << 16, 1000);
        }
    }

    private final LlamaModel model;
    private final Backend be;
    private final DpoConfig config;
    private final LrSchedule schedule;
    private final Truncation truncation;
    private final LoraAdapter adapter;
    private final LoraGradients grads;
    private final AdamW optimizer;
    private final DpoLoss loss;
    private final ReferenceLogps reference;
    private final DpoStep step;
    private final ReferenceSync referenceSync;
    private ReplaySource replay;
    private final int logHistory;
    private final List<Map<String, Object>> history = new ArrayList<>();
    private int globalStep;
    private long numTokens;
    private Position position = Position.START;

    /**
     * A session that trains a fresh adapter (the lora_* fields, initialised from seed) against the base model, or,
     * given an initial adapter, a copy of it against a frozen copy of it (TRL continuing a PEFT model). With
     * sync_ref_model the reference is always an adapter, a copy of the initial policy (for a fresh adapter B = 0, so
     * it scores as the base model does) that {@link ReferenceSync} then moves towards the policy.
     *
     * @param baseModel written into adapter_config.json as base_model_name_or_path
     */
    public static DpoSession start(LlamaModel model, DpoConfig config, LrSchedule schedule, String baseModel,
                                   LoraAdapter initial, Options options) {
        Backend be = model.backend();
        LoraAdapter policy = initial != null ? initial.copy(be) : LoraAdapter.create(new LoraConfig(config.loraR(),
                config.loraAlpha(), config.loraTargetModules(), config.loraDropout(), config.useRslora(), baseModel),
                model.config(), be, config.seed());
        LoraAdapter frozen = initial != null ? initial.copy(be) : config.syncRefModel() ? policy.copy(be) : null;
        ReferenceLogps reference = new ReferenceLogps(new SequenceScorer(model, options.referenceBatchTokens(),
                config.sharePrompt()), frozen, options.referenceCacheEntries());
        return new DpoSession(model, config, schedule, policy, reference, options.logHistory());
    }

    /**
     * A session over a given policy (trained in place) and reference; {@link #start} is the usual way in.
     *
     * @param reference  with sync_ref_model, its adapter must be set (it is updated in place)
     * @param logHistory the newest log lines kept (in memory and in checkpoints)
     */
    public DpoSession(LlamaModel model, DpoConfig config, LrSchedule schedule, LoraAdapter policy,
                      ReferenceLogps reference, int logHistory) {
        this.model = model;
        this.be = model.backend();
        this.config = config;
        this.schedule = schedule;
        this.truncation = config.truncation();
        this.adapter = policy;
        this.grads = new LoraGradients(policy, model.config(), be);
        this.optimizer = new AdamW(be, policy.parameters(), grads.tensors(), config.adamBeta1(), config.adamBeta2(),
                config.adamEpsilon(), config.weightDecay(), config.maxGradNorm());
        this.loss = new DpoLoss(config.lossParams());
        this.reference = reference;
        this.step = new DpoStep(model, policy, grads, loss, reference, config.gradientCheckpointing(),
                config.sharePrompt());
        if (config.syncRefModel() && reference.adapter() == null) {
            throw new IllegalArgumentException("sync_ref_model needs a reference adapter to update, not the base "
                    + "model");
        }
        this.referenceSync = config.syncRefModel() ? new ReferenceSync(be, config.refModelMixupAlpha(),
                config.refModelSyncSteps()) : null;
        this.logHistory = logHistory;
    }

    /**
     * Forward, loss and backward of one micro-batch, its gradient scaled by {@code scale} and added to the gradients
     * (1/gradient_accumulation_steps, say, as the Trainer divides the loss).
     */
    public DpoStep.Result accumulate(List<PreferencePair> batch, double scale) {
        DpoStep.Result r = step.run(truncate(batch), scale, true);
        numTokens += r.tokens();
        return r;
    }

    /** Forward and loss only (evaluation): the gradients stay as they are. */
    public DpoStep.Result evaluate(List<PreferencePair> batch) {
        return step.run(truncate(batch), 0, false);
    }

    /** The reference log-probs of these pairs (DpoStep order), computed now and cached for the steps that need them. */
    public List<Score> scoreReference(List<PreferencePair> pairs) {
        return reference.get(DpoStep.sequences(truncate(pairs)));
    }

    /**
     * Clips and applies the accumulated gradients at the schedule's rate for this step, then zeroes them; with
     * sync_ref_model, every ref_model_sync_steps-th step then updates the reference ({@link ReferenceSync}).
     */
    public Step optimizerStep() {
        double lr = schedule.lr(globalStep);
        AdamW.StepResult r = optimizer.step(lr);
        grads.zero();
        globalStep++;
        if (referenceSync != null && referenceSync.due(globalStep)) {
            referenceSync.update(adapter, reference);
        }
        return new Step(globalStep, r.gradNorm(), r.applied(), lr);
    }

    /**
     * The weight the loss gives a pair now: its own weight times vote_decay_gamma^age, the age being the current
     * policy version minus the pair's (NS-DPO); a pair from a version ahead of the current one (after a rollback)
     * has age 0.
     */
    public double effectiveWeight(PreferencePair p) {
        double gamma = config.voteDecayGamma();
        int age = Math.max(0, position.policyVersion() - p.policyVersion());
        return gamma == 1 ? p.weight() : p.weight() * Math.pow(gamma, age);
    }

    // TRL's truncation with the decayed weight, and a clear error naming the pair for what the step cannot take.
    private List<Truncation.Pair> truncate(List<PreferencePair> batch) {
        int max = model.config().maxPositionEmbeddings();
        List<Truncation.Pair> out = new ArrayList<>(batch.size());
        for (PreferencePair p : batch) {
            double weight = effectiveWeight(p);
            String problem = loss.params().perPairProblem(weight, p.labelSmoothing());
            if (problem != null) {
                throw new IllegalArgumentException(p.source() + ": " + problem);
            }
            Truncation.Pair t = truncation.apply(p);
            t = new Truncation.Pair(t.id(), t.chosen(), t.rejected(), weight, t.labelSmoothing());
            int length = Math.max(t.chosen().length(), t.rejected().length());
            if (length > max) {
                throw new IllegalArgumentException(p.source() + ": a sequence of " + length + " tokens exceeds the "
                        + "model's context of " + max + "; lower max_length");
            }
            out.add(t);
        }
        return out;
    }

    /** Whether save_steps says to write a checkpoint after the step just taken. */
    public boolean checkpointDue() {
        return globalStep % config.saveSteps() == 0;
    }

    /** Writes {@code root/checkpoint-N} for the current step N (transformers' layout) and returns it. */
    public Path checkpoint(Path root) throws IOException {
        Path dir = root.resolve("checkpoint-" + globalStep);
        save(dir);
        return dir;
    }

    /**
     * The whole state into dir: PEFT adapter, AdamW moments, steps, stream position, BCO moments, log history, the
     * replay source's state, and the reference adapter when it follows the policy. The decay needs nothing more: it
     * is a function of the policy version, which the position holds.
     */
    public void save(Path dir) throws IOException {
        RunningMoments.State m = loss.moments().state();
        Map<String, Double> bco = Map.of("mean", m.mean(), "std", m.std(), "var", m.var(), "count", m.count());
        TrainerCheckpoint.save(dir, adapter, referenceSync == null ? null : reference.adapter(), optimizer,
                new TrainerCheckpoint.State(globalStep, optimizer.skippedSteps(), position.epochIndex(),
                        position.microBatchesInEpoch(), position.epoch(), numTokens, bco, history,
                        position.lastPairId(), position.policyVersion(), replay == null ? Map.of() : replay.state(),
                        position.queuePosition()),
                be);
    }

    /** Continues from a directory {@link #save} wrote: afterwards the session is the one that wrote it. */
    public void restore(Path dir) throws IOException {
        LoraAdapter saved = LoraAdapter.load(dir, model.config(), be);
        LoraConfig want = adapter.config(), got = saved.config();
        if (got.r() != want.r() || !got.targetModules().equals(want.targetModules())) {
            throw new IllegalArgumentException(dir + " holds a rank-" + got.r() + " adapter on " + got.targetModules()
                    + ", but this run trains rank " + want.r() + " on " + want.targetModules());
        }
        copyParameters(saved, adapter);
        if (referenceSync != null) {
            Path refDir = dir.resolve(TrainerCheckpoint.REFERENCE_DIR);
            if (!Files.isDirectory(refDir)) {
                throw new IllegalArgumentException(dir + " holds no reference adapter ("
                        + TrainerCheckpoint.REFERENCE_DIR + "/): it was written without sync_ref_model, which this "
                        + "run sets");
            }
            copyParameters(LoraAdapter.load(refDir, model.config(), be), reference.adapter());
            reference.invalidate();
        }
        TrainerCheckpoint.State st = TrainerCheckpoint.load(dir, adapter, optimizer, be);
        globalStep = st.globalStep();
        numTokens = st.numTokens();
        position = new Position(st.epochIndex(), st.microBatchesInEpoch(), st.epoch(), st.lastVoteId(),
                st.policyVersion(), st.queuePosition());
        history.clear();
        st.logHistory().forEach(this::log);
        Map<String, Double> bco = st.bcoMoments();
        if (!bco.isEmpty()) {
            loss.moments().restore(new RunningMoments.State(bco.get("mean"), bco.get("std"), bco.get("var"),
                    bco.get("count")));
        }
        if (replay != null && !st.replay().isEmpty()) {
            replay.restore(st.replay());
        }
    }

    private void copyParameters(LoraAdapter src, LoraAdapter dst) {
        List<Tensor> to = dst.parameters(), from = src.parameters();
        for (int i = 0; i < to.size(); i++) {
            be.copy(to.get(i), 0, from.get(i), 0, to.get(i).size());
        }
    }

    /**
     * Where replayed pairs come from (replay_pairs_per_step &gt; 0); set it before {@link #restore}, which restores its
     * state from the checkpoint.
     */
    public void useReplay(ReplaySource source) {
        this.replay = source;
    }

    /**
     * The replay_pairs_per_step pairs of earlier steps to add to the step about to run: none when replay is off,
     * fewer while the source holds fewer.
     */
    public List<PreferencePair> drawReplay() {
        int n = config.replayPairsPerStep();
        if (n == 0) {
            return List.of();
        }
        if (replay == null) {
            throw new IllegalStateException("replay_pairs_per_step is " + n + " but the session has no replay source");
        }
        return replay.draw(n);
    }

    /** Tells the replay source, if any, the new pairs the step just taken trained on. */
    public void trained(List<PreferencePair> pairs) {
        if (replay != null) {
            replay.trained(pairs);
        }
    }

    /** The reference adapter (null: the base model); with sync_ref_model it moves every ref_model_sync_steps. */
    public LoraAdapter referenceAdapter() {
        return reference.adapter();
    }

    /** Writes the accumulated gradients as safetensors: F32, one tensor per LoRA matrix under PEFT's key names. */
    public void saveGradients(Path file) throws IOException {
        List<TensorData> tensors = new ArrayList<>();
        int r = adapter.rank();
        for (int l = 0; l < model.config().numLayers(); l++) {
            for (String p : adapter.config().targetModules()) {
                LoraAdapter.Pair ab = adapter.pair(l, p);
                LoraGradients.Pair g = grads.pair(l, p);
                tensors.add(Tensors.of(LoraConfig.key(l, p, "A"), DType.F32, new long[] {r, ab.in()},
                        be.download(g.dA())));
                tensors.add(Tensors.of(LoraConfig.key(l, p, "B"), DType.F32, new long[] {ab.out(), r},
                        be.download(g.dB())));
            }
        }
        SafetensorsWriter.write(file, tensors, Map.of("format", "pt"));
    }

    /** Adds one line to the log history that checkpoints carry (the newest {@link Options#logHistory()} are kept). */
    public void log(Map<String, Object> line) {
        history.add(line);
        if (history.size() > logHistory) {
            history.removeFirst();
        }
    }

    /** The log history, oldest first (restored from a checkpoint, then what {@link #log} added). */
    public List<Map<String, Object>> logHistory() {
        return history;
    }

    /** Sets where the stream stands, for the next checkpoint (call after each optimizer step). */
    public void setPosition(Position p) {
        position = p;
    }

    public Position position() {
        return position;
    }

    /** Optimizer steps taken (applied or skipped): the scheduler's position. */
    public int steps() {
        return globalStep;
    }

    /** Steps skipped because the gradients were not finite. */
    public int skippedSteps() {
        return optimizer.skippedSteps();
    }

    /** Prompt and completion tokens of both sequences of every pair trained on (TRL's num_tokens). */
    public long numTokens() {
        return numTokens;
    }

    public DpoConfig config() {
        return config;
    }

    /** The adapter being trained (it changes with every step; {@link #snapshot()} to keep a version). */
    public LoraAdapter adapter() {
        return adapter;
    }

    /** An immutable copy of the adapter as it is now: a policy version to publish. */
    public LoraAdapter snapshot() {
        return adapter.copy(be);
    }

    /** Writes the adapter as a PEFT adapter directory. */
    public void saveAdapter(Path dir) throws IOException {
        adapter.save(dir, be);
    }
}
