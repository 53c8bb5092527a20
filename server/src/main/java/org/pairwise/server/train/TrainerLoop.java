package org.pairwise.server.train;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.pairwise.accel.Backend;
import org.pairwise.server.store.PreferenceStore;
import org.pairwise.server.store.PreferenceStore.StoreUnavailableException;
import org.pairwise.server.store.StoreException;
import org.pairwise.trainer.data.PreferencePair;
import org.pairwise.trainer.online.ContinualTrainer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trainer's thread: finalises the labels that are ready (votes past their undo window, aggregated per pair when
 * aggregation says so: {@link PreferenceStore#finalise}), reads the training items after the last trained one
 * straight from the store (the store is the queue, so a missed wake-up or a restart loses nothing), takes a DPO step when a full batch is waiting or the first waiting
 * vote has waited batch_window_ms, marks the votes trained, and publishes each new policy version as an adapter
 * directory. Steps wait while the generator is busy: on a small machine people waiting for a pair come first.
 *
 * <p>A policy version is announced only after a checkpoint holds it, so a restart (even after kill -9) resumes at the
 * newest announced version or later and never hands out a number a pair already names for other weights. A failure
 * of the disk or the store (full, unavailable) stalls the loop instead of ending it: the work after a step (its
 * checkpoint, the published adapter, the trained marks) is retried with back-off until it succeeds, and training
 * goes on by itself once the cause is gone.
 */
public final class TrainerLoop {
    private static final Logger LOG = LoggerFactory.getLogger(TrainerLoop.class);
    private static final int HISTORY = 10_000;
    private static final long MAX_YIELD_MS = 10_000;
    private static final long MAX_BACKOFF_MS = 5_000;
    private static final long GUARD_EVERY_MS = 1_000;

    /** Where a step's results go (the trainer verticle puts them on the event bus). */
    public interface Events {
        void step(JsonObject step);

        void policy(int version, int step, Path adapterDir);

        void state(JsonObject state);

        /** Serve this kept version instead of the newest (a guard tripped, or a rollback); dir null: the base. */
        default void serve(int version, Path adapterDir) {}
    }

    /**
     * Where the trainer's results are copied before anyone is told of them (a cluster's database, for the other
     * nodes and for whoever trains next). Called on the trainer thread; a failure stops the trainer.
     */
    public interface Replica {
        /** A checkpoint directory was written for this step (it holds this policy version). */
        void checkpointed(int step, int policyVersion, Path dir) throws Exception;

        /** This version's adapter directory was written; it is announced when this returns. */
        void published(int version, int step, Path dir) throws Exception;

        Replica NONE = new Replica() {
            @Override
            public void checkpointed(int step, int policyVersion, Path dir) {}

            @Override
            public void published(int version, int step, Path dir) {}
        };
    }

    private final ContinualTrainer trainer;
    private final Backend backend;
    private final PreferenceStore store;
    private final PublishedPolicies policies;
    private final long windowMs;
    private final PreferenceStore.Finalising finalising;
    private final BooleanSupplier generatorBusy;
    private final PolicyGuard guard;
    private long guardCheckedAt;
    /** The version the generator was last told to serve: the newest announced, or the guard's or a rollback's. */
    private volatile int servedVersion;
    private final Semaphore signal = new Semaphore(0);
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private final List<JsonObject> history = new ArrayList<>();
    private final Thread thread;
    private volatile Events events;
    private volatile boolean running = true;
    private volatile boolean paused;
    // One field, so that a reader never sees a state with another state's error (say "stalled" without its reason).
    private record Condition(String state, String error) {}

    private volatile Condition condition = new Condition("starting", null);
    private volatile long lastVoteId;
    /** The trainer's place in the queue: the last training item trained on (checkpointed as queue_position). */
    private volatile long lastItemId;
    private volatile int checkpointedStep;
    // Work left after a step, done by settle() (trainer thread only): the newest version announced, the checkpoint
    // row not yet in the store, the trained marks not yet in the store.
    private volatile int announcedVersion;
    private PreferenceStore.TrainerCheckpoint checkpointRow;
    /** The version announced last, until its row is in the store. */
    private PreferenceStore.PolicyVersion versionRow;
    /** A checkpoint written but not yet copied to the replica (trainer thread only). */
    private PreferenceStore.TrainerCheckpoint toReplicate;
    /** Items up to here are marked trained by the next settle() (after a resume); -1: nothing to do. */
    private long markThrough = -1;
    private int markThroughVersion;
    private volatile Replica replica = Replica.NONE;
    private final ArrayDeque<Marks> marks = new ArrayDeque<>();

    private record Marks(List<Long> itemIds, int policyVersion) {}

    public TrainerLoop(ContinualTrainer trainer, Backend backend, PreferenceStore store, PublishedPolicies policies,
                       long windowMs, PreferenceStore.Finalising finalising, BooleanSupplier generatorBusy,
                       PolicyGuard guard) {
        this.trainer = trainer;
        this.guard = guard;
        this.finalising = finalising;
        this.backend = backend;
        this.store = store;
        this.policies = policies;
        this.windowMs = windowMs;
        this.generatorBusy = generatorBusy;
        this.thread = Thread.ofPlatform().name("pairwise-trainer").daemon().unstarted(this::run);
        // A hint only (Linux ignores it without -XX:ThreadPriorityPolicy); the real yield is in awaitGenerator.
        thread.setPriority(Thread.MIN_PRIORITY);
    }

    /**
     * Restores the newest checkpoint; returns the policy version to serve and its adapter directory (null for the
     * base model). Call before {@link #start}.
     */
    public ContinualTrainer.Resumed resume() throws IOException {
        ContinualTrainer.Resumed r = trainer.resume();
        policies.dropNewerThan(r.policyVersion());
        if (r.policyVersion() > 0 && policies.existing(r.policyVersion()) == null) {
            policies.save(r.policy(), backend, r.policyVersion());
        }
        lastVoteId = r.lastVoteId();
        lastItemId = r.queuePosition();
        // The checkpoint's items were trained, but the process that took its last step may have died before their
        // marks were stored: settle() marks them (a write, so it waits, as every write, for a store that takes it).
        markThrough = lastItemId;
        markThroughVersion = r.policyVersion();
        checkpointedStep = r.step();
        announcedVersion = r.policyVersion();
        servedVersion = r.policyVersion();
        PolicyGuard.Hold held = guard.holding();
        if (held != null) {
            if (held.serving() <= r.policyVersion() && policies.kept().contains(held.serving())) {
                servedVersion = held.serving();
                LOG.info("publishing is held ({}): serving v{}", held.reason(), servedVersion);
            } else {
                LOG.warn("publishing is held ({}), but v{} is no longer kept: serving v{}", held.reason(),
                        held.serving(), servedVersion);
            }
        }
        synchronized (history) {
            for (Map<String, Object> line : trainer.history()) {
                history.add(new JsonObject(new java.util.LinkedHashMap<>(line)));
            }
        }
        LOG.info("trainer resumed at step {}, policy version {}, after vote {}", r.step(), r.policyVersion(),
                r.lastVoteId());
        return r;
    }

    /** The version generation serves: the published one, or the one a hold names (known after {@link #resume}). */
    public int servedVersion() {
        return servedVersion;
    }

    /** Sets where results are copied before they are announced; call before {@link #start}. */
    public void replicateTo(Replica replica) {
        this.replica = replica;
    }

    public void start(Events events) {
        this.events = events;
        thread.start();
    }

    /** A vote was recorded (or the loop should look again). */
    public void wake() {
        signal.release();
    }

    public JsonObject setPaused(boolean pause) {
        paused = pause;
        wake();
        JsonObject s = status();
        events.state(s);
        return s;
    }

    public JsonObject status() {
        Condition c = condition;
        JsonObject s = new JsonObject().put("state", c.state()).put("paused", paused).put("steps", trainer.steps())
                .put("policy_version", announcedVersion).put("served_version", servedVersion)
                .put("last_vote_id", lastVoteId)
                .put("last_item_id", lastItemId).put("aggregation", finalising.aggregation().wire())
                .put("votes_per_step", trainer.votesPerStep()).put("batch_window_ms", windowMs);
        s.put("guard", guard.status());
        return c.error() == null ? s : s.put("error", c.error());
    }

    /** Every KL measurement of the guard, oldest first (the dashboard's chart). */
    public JsonArray klHistory() {
        return guard.klHistory();
    }

    /**
     * Serves a kept version from the next generation on and holds publishing until {@link #release} (the admin's
     * rollback). Blocking (lists the kept versions): call on a worker. Throws IllegalArgumentException for a version
     * not kept.
     */
    public JsonObject rollBack(int version, String by) throws IOException {
        if (!policies.kept().contains(version)) {
            throw new IllegalArgumentException("policy version " + version + " is not kept on disk (kept: "
                    + policies.kept() + ")");
        }
        guard.hold("rolled back to v" + version + " by " + by + "; publishing held until released", version);
        serve(version);
        JsonObject s = status();
        events.state(s);
        return s;
    }

    /** Lets publishing go on after a guard trip or a rollback: the trainer's next version is published. */
    public JsonObject release() throws IOException {
        guard.release();
        wake();
        JsonObject s = status();
        events.state(s);
        return s;
    }

    private void serve(int version) {
        servedVersion = version;
        events.serve(version, policies.existing(version));
    }

    /** Looks at the served version now and then; a trip holds publishing and serves the version it names. */
    private void checkGuard() {
        long now = System.currentTimeMillis();
        if (now - guardCheckedAt < GUARD_EVERY_MS) {
            return;
        }
        guardCheckedAt = now;
        try {
            PolicyGuard.Hold h = guard.check(servedVersion, policies.kept());
            if (h != null) {
                LOG.warn("publishing held: {}; serving v{}", h.reason(), h.serving());
                serve(h.serving());
                events.state(status());
            }
        } catch (Exception e) {
            // A guard that cannot look (a store hiccup) looks again later; it never stops training.
            LOG.warn("the policy guard could not check v{}: {}", announcedVersion, e.toString());
        }
    }

    /** Logged steps with a step number above {@code since}, oldest first. */
    public JsonArray history(int since) {
        JsonArray out = new JsonArray();
        synchronized (history) {
            for (JsonObject line : history) {
                if (line.getInteger("step", 0) > since) {
                    out.add(line.copy());
                }
            }
        }
        return out;
    }

    /** Finishes the step in progress, writes a checkpoint if any step is not in one yet, and ends the thread. */
    public CompletableFuture<Void> stop() {
        running = false;
        wake();
        if (!thread.isAlive() && !stopped.isDone()) {
            stopped.complete(null);  // never started
        }
        return stopped;
    }

    private void run() {
        long firstWaitingSince = -1;
        long backoff = 0;
        try {
            setState("idle");
            while (running) {
                try {
                    settle();
                    checkGuard();
                    if (paused) {
                        setState("paused");
                        signal.tryAcquire(1, TimeUnit.SECONDS);
                        continue;
                    }
                    store.finalise(finalising).get();
                    List<PreferenceStore.TrainingItem> batch =
                            store.trainingItemsAfter(lastItemId, trainer.votesPerStep()).get();
                    if (backoff > 0) {
                        LOG.info("the trainer goes on: its disk and store work again");
                        backoff = 0;
                        setCondition("idle", null);
                    }
                    if (batch.isEmpty()) {
                        firstWaitingSince = -1;
                        setState("idle");
                        signal.tryAcquire(1, TimeUnit.SECONDS);
                        continue;
                    }
                    if (batch.size() < trainer.votesPerStep()) {
                        long now = System.currentTimeMillis();
                        firstWaitingSince = firstWaitingSince < 0 ? now : firstWaitingSince;
                        long left = windowMs - (now - firstWaitingSince);
                        if (left > 0) {
                            setState("waiting");
                            signal.tryAcquire(Math.min(left, 1000), TimeUnit.MILLISECONDS);
                            continue;
                        }
                    }
                    awaitGenerator();
                    step(batch);
                    firstWaitingSince = -1;
                } catch (Exception e) {
                    if (!isStorageFailure(e)) {
                        throw e;
                    }
                    // The disk or the store: nothing is lost (the votes wait in the store, the step's results in
                    // memory); try again later, and say why meanwhile.
                    backoff = backoff == 0 ? 250 : Math.min(MAX_BACKOFF_MS, backoff * 2);
                    if (condition.error() == null) {
                        LOG.warn("the trainer waits for its storage: {}", describe(e));
                    }
                    setCondition("stalled", describe(e));
                    signal.tryAcquire(backoff, TimeUnit.MILLISECONDS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            // The votes stay in the store untrained; a restart retries them. Serving goes on.
            setCondition(condition.state(), t.toString());
            LOG.error("trainer stopped", t);
        } finally {
            try {
                if (trainer.steps() > checkpointedStep) {
                    writeCheckpoint();
                }
                settle();
            } catch (Exception e) {
                LOG.error("could not write the final checkpoint", e);
            }
            setState(condition.error() == null ? "stopped" : "failed");
            stopped.complete(null);
        }
    }

    private void step(List<PreferenceStore.TrainingItem> items) throws Exception {
        setState("training");
        List<PreferencePair> batch = items.stream().map(PreferenceStore.TrainingItem::pair).toList();
        List<Long> ids = batch.stream().map(PreferencePair::id).toList();
        List<Long> itemIds = items.stream().map(PreferenceStore.TrainingItem::id).toList();
        int versionBefore = trainer.policyVersion();
        int stepsBefore = trainer.steps();
        long started = System.nanoTime();
        ContinualTrainer.StepReport r;
        try {
            r = trainer.step(batch, itemIds.getLast());
        } catch (IOException e) {
            if (trainer.steps() == stepsBefore) {
                throw e;
            }
            // The step was taken and only its checkpoint failed (a full disk): keep the step, settle() retries the
            // checkpoint before anything is announced.
            r = null;
            LOG.warn("step {} was taken but its checkpoint failed: {}", trainer.steps(), e.toString());
        }
        lastVoteId = trainer.lastVoteId();
        lastItemId = trainer.queuePosition();
        marks.add(new Marks(itemIds, versionBefore));
        if (r == null) {
            settle();
            return;
        }
        if (r.checkpoint() != null) {
            noteCheckpoint(r.checkpoint());
        }
        JsonObject line = new JsonObject().put("step", r.step());
        r.metrics().forEach((k, v) -> line.put(k, Double.isFinite(v) ? v : null));
        line.put("first_vote_id", ids.getFirst()).put("last_vote_id", r.lastVoteId())
                .put("first_item_id", itemIds.getFirst()).put("last_item_id", itemIds.getLast())
                .put("applied", r.applied())
                .put("step_seconds", (System.nanoTime() - started) / 1e9).put("time", System.currentTimeMillis());
        synchronized (history) {
            history.add(line);
            if (history.size() > HISTORY) {
                history.removeFirst();
            }
        }
        events.step(line.copy());
        settle();
    }

    /**
     * Finishes what the last step left: a new policy version is checkpointed first, then written as an adapter
     * directory, then announced; then the checkpoint row, the version's row and the trained marks go to the store.
     * Each part is done once; a failure leaves the rest for the next call. Runs before the next step, so the training
     * adapter is still the one the step published.
     */
    private void settle() throws Exception {
        if (markThrough >= 0) {
            int marked = store.markTrainedThrough(markThrough, markThroughVersion).get();
            if (marked > 0) {
                LOG.info("marked {} items up to {} trained: the checkpoint's step took them, its marks were lost",
                        marked, markThrough);
            }
            markThrough = -1;
        }
        int version = trainer.policyVersion();
        if (version > announcedVersion && guard.holding() == null) {
            if (trainer.steps() > checkpointedStep) {
                writeCheckpoint();
            }
            replicateCheckpoint();
            Path dir = policies.save(trainer.adapter(), backend, version);
            replica.published(version, trainer.steps(), dir);
            announcedVersion = version;
            servedVersion = version;
            events.policy(version, trainer.steps(), dir);
            versionRow = new PreferenceStore.PolicyVersion(version, trainer.steps(), dir.toString(),
                    System.currentTimeMillis());
        }
        replicateCheckpoint();
        if (checkpointRow != null) {
            store.recordCheckpoint(checkpointRow).get();
            checkpointRow = null;
        }
        if (versionRow != null) {
            store.recordPolicyVersion(versionRow).get();
            versionRow = null;
        }
        while (!marks.isEmpty()) {
            Marks m = marks.peekFirst();
            store.markItemsTrained(m.itemIds(), m.policyVersion()).get();
            marks.removeFirst();
        }
    }

    private void replicateCheckpoint() throws Exception {
        PreferenceStore.TrainerCheckpoint c = toReplicate;
        if (c != null) {
            replica.checkpointed((int) c.step(), c.policyVersion(), Path.of(c.path()));
            toReplicate = null;
        }
    }

    private void writeCheckpoint() throws IOException {
        noteCheckpoint(trainer.checkpoint());
    }

    /** The checkpoint directory is the truth a restart reads; the row lets people see it in the database. */
    private void noteCheckpoint(Path dir) {
        checkpointedStep = trainer.steps();
        checkpointRow = new PreferenceStore.TrainerCheckpoint(trainer.steps(), trainer.policyVersion(),
                trainer.lastVoteId(), dir.toString(), System.currentTimeMillis());
        toReplicate = checkpointRow;
    }

    /** A full disk or an unavailable store, as opposed to a bug or bad data (which stop the trainer, as before). */
    private static boolean isStorageFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof IOException || t instanceof UncheckedIOException
                    || t instanceof StoreUnavailableException || t instanceof StoreException) {
                return true;
            }
        }
        return false;
    }

    private static String describe(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof StoreUnavailableException || t instanceof IOException) {
                return t.getMessage() == null ? t.toString() : t.getMessage();
            }
        }
        return e.toString();
    }

    private void awaitGenerator() throws InterruptedException {
        long until = System.currentTimeMillis() + MAX_YIELD_MS;
        while (generatorBusy.getAsBoolean() && running && System.currentTimeMillis() < until) {
            setState("yielding");
            Thread.sleep(20);
        }
    }

    private void setState(String s) {
        setCondition(s, condition.error());
    }

    private void setCondition(String s, String error) {
        Condition now = new Condition(s, error);
        if (!now.equals(condition)) {
            condition = now;
            Events e = events;
            if (e != null) {
                e.state(status());
            }
        }
    }
}
