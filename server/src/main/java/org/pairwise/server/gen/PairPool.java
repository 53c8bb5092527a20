package org.pairwise.server.gen;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.random.RandomGenerator;
import org.pairwise.accel.Backend;
import org.pairwise.model.Engine;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.model.sample.SamplingParams;
import org.pairwise.server.gen.PairGenerator.GeneratedPair;
import org.pairwise.server.gen.PairGenerator.PromptInput;
import org.pairwise.server.gen.PairGenerator.Sample;
import org.pairwise.server.gen.PairGenerator.TextListener;
import org.pairwise.server.store.PreferenceStore;
import org.pairwise.server.store.PreferenceStore.Continuation;
import org.pairwise.server.store.PreferenceStore.ContinuationStart;
import org.pairwise.server.store.PreferenceStore.PairRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps {@code poolSize} pairs ready so that {@link #next()} answers from memory, and generates pairs for
 * people's own prompts on demand. One generation thread does all of it, on-demand work first (a person is watching
 * it stream); every pair is stored before it is handed out, so a vote always finds its pair. When a new policy
 * arrives, pairs of older versions are replaced one by one and pairs of the current version are served first.
 *
 * <p>Each ready pair leaves the pool with its first hand-out. Its other k - 1 slots ({@code votesPerPair}, stored with
 * the pair as votes_wanted) are handed out by the store's leases, which give pairs someone started first: with k above
 * 1 a crowd faster than the generator then never waits, and several people judge each pair. A pair generated for a
 * person's own prompt is wanted once: it is theirs, never handed to anyone else.
 */
public final class PairPool {
    private static final Logger LOG = LoggerFactory.getLogger(PairPool.class);

    /** A stored pair as a person sees it: sides already randomised, which sample is A kept server-side. */
    public record ServedPair(String pairId, PromptInput prompt, Sample a, Sample b, int policyVersion) {}

    private final PairGenerator generator;
    private final PreferenceStore store;
    private final ActivePrompts prompts;
    private final int poolSize;
    private final int votesPerPair;
    private final ModelConfig modelConfig;
    private final Backend backend;
    private final boolean chatTemplate;
    private final RandomGenerator sides = RandomGenerator.of("L64X128MixRandom");
    private final ArrayList<ServedPair> ready = new ArrayList<>();  // guarded by the pool's monitor
    private final Deque<CompletableFuture<ServedPair>> waiters = new ArrayDeque<>();
    private final LinkedBlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private final Thread worker;
    private volatile Consumer<ServedPair> onGenerated = p -> {};
    private volatile BattleMaker battles;
    private volatile boolean running = true;
    private volatile boolean busy;



    /** {@code engine}: the model's config, the backend policies load onto, and the tokenizer's chat template. */
    public PairPool(PairGenerator generator, PreferenceStore store, int poolSize, int votesPerPair, Engine engine,
                    long seed) {
        if (votesPerPair < 1) {
            throw new IllegalArgumentException("votesPerPair must be >= 1, got " + votesPerPair);
        }
        this.generator = generator;
        this.store = store;
        this.poolSize = poolSize;
        this.votesPerPair = votesPerPair;
        this.modelConfig = engine.config();
        this.backend = engine.backend();
        this.chatTemplate = engine.tokenizer().chatTemplate().isPresent();
        this.prompts = new ActivePrompts(generator, store, modelConfig.maxPositionEmbeddings(), seed);
        this.worker = Thread.ofPlatform().name("pairwise-generator").daemon().unstarted(this::run);
    }

    /** Loads the prompt set (blocking: waits on the store); call before {@link #start()}. */
    public void loadPrompts(List<PromptInput> configured, String source) throws InterruptedException,
            ExecutionException {
        prompts.load(configured, source);
        if (prompts.size() == 0) {
            throw new IllegalArgumentException("no prompts to generate from");
        }
    }

    public void start() {
        worker.start();
    }

    public void onGenerated(Consumer<ServedPair> listener) {
        this.onGenerated = listener;
    }

    /** Makes some refills battles between policy versions (issue 12); set before {@link #start()}. */
    public void battles(BattleMaker maker) {
        this.battles = maker;
    }

    /** A ready pair now, or the next one generated (the pool is empty only while warming up or under a rush). */
    public CompletableFuture<ServedPair> next() {
        CompletableFuture<ServedPair> f;
        boolean refill;
        synchronized (this) {
            int before = ready.size();
            ServedPair p = take();
            if (p != null) {
                f = CompletableFuture.completedFuture(p);
            } else {
                f = new CompletableFuture<>();
                waiters.add(f);
            }
            refill = p == null || ready.size() < before;
        }
        // Waking the generator thread costs a context switch: only when there is something for it to do.
        if (refill) {
            wake();
        }
        return f;
    }

    /** Generates a pair for a person's own prompt, streaming each side's text; stored before the future completes. */
    public CompletableFuture<ServedPair> generate(PromptInput input, TextListener onA, TextListener onB) {
        CompletableFuture<ServedPair> f = new CompletableFuture<>();
        tasks.add(() -> {
            try {
                int[] ids = prompts.encode(input);
                long promptId = store.addPrompt("user", input.display(), PromptSet.messagesJson(input)).get();
                f.complete(produce(new ActivePrompts.Active(promptId, input, ids), onA, onB, 1));
            } catch (Throwable t) {
                f.completeExceptionally(t instanceof ExecutionException && t.getCause() != null ? t.getCause() : t);
            }
        });
        return f;
    }

    /**
     * Continues the conversation of a voted pair: {@code from} (the store's continuationStart, outcome OK) gives the
     * pair's prompt and the response its voter preferred, {@code message} the voter's next user message. The new
     * pair is generated over the whole conversation with the chat template, stored with its parent, wanted by
     * votes_per_pair annotators like any pool pair, and leased first to {@code annotator}. Empty when the store
     * refused it because that person's vote on the parent changed meanwhile (nothing is stored then).
     */
    public CompletableFuture<Optional<ServedPair>> continueConversation(String parentPairId, ContinuationStart from,
                                                                       String annotator, String message,
                                                                       long leaseMillis, TextListener onA,
                                                                       TextListener onB) {
        CompletableFuture<Optional<ServedPair>> f = new CompletableFuture<>();
        tasks.add(() -> {
            try {
                PromptInput input = Conversation.next(PromptSet.fromRecord(from.prompt().text(),
                        from.prompt().messagesJson()), from.chosenText(), message);
                int[] ids = prompts.encode(input);
                Continuation c = new Continuation(parentPairId, annotator, from.choice(), input.display(),
                        PromptSet.messagesJson(input));
                f.complete(Optional.ofNullable(produce(new ActivePrompts.Active(0, input, ids), onA, onB,
                        r -> store.addContinuation(c, r, votesPerPair, leaseMillis))));
            } catch (Throwable t) {
                f.completeExceptionally(t instanceof ExecutionException && t.getCause() != null ? t.getCause() : t);
            }
        });
        return f;
    }

    /** Stores and activates uploaded prompts (blocking: tokenizes and waits on the store); returns how many. */
    public int addPrompts(List<PromptInput> inputs) throws InterruptedException, ExecutionException {
        int n = prompts.add(inputs, ActivePrompts.UPLOAD_SOURCE);
        wake();
        return n;
    }

    /** Loads the published adapter between generations (on the generation thread: the load reads files). */
    public void switchPolicy(Path adapterDir, int version) {
        switchPolicy(() -> adapterDir, version);
    }

    /**
     * Where a version's adapter directory is, found on the generation thread (in a cluster it may be fetched from
     * the database first); null for the base model.
     */
    @FunctionalInterface
    public interface AdapterDir {
        Path find() throws Exception;
    }

    /** As {@link #switchPolicy(Path, int)}, the directory found when the switch happens. */
    public void switchPolicy(AdapterDir find, int version) {
        tasks.add(() -> {
            if (version <= generator.policyVersion()) {
                return;
            }
            Path adapterDir = null;
            try {
                adapterDir = find.find();
                generator.setPolicy(LoraAdapter.load(adapterDir, modelConfig, backend), version);
                LOG.info("generating with policy version {}", version);
            } catch (Exception e) {
                LOG.warn("could not load policy version {} from {}: {}", version, adapterDir, e.toString());
            }
        });
    }

    /**
     * Serves this kept version from the next generation on, newer or older (a rollback; adapterDir null: the base
     * model); ready pairs of other versions leave the pool (they stay stored).
     */
    public void rollBack(Path adapterDir, int version) {
        rollBack(() -> adapterDir, version);
    }

    /** As {@link #rollBack(Path, int)}, the directory found when the switch happens. */
    public void rollBack(AdapterDir find, int version) {
        tasks.add(() -> {
            Path adapterDir = null;
            try {
                adapterDir = find.find();
                generator.setPolicy(adapterDir == null ? null : LoraAdapter.load(adapterDir, modelConfig, backend),
                        version);
                synchronized (this) {
                    ready.removeIf(p -> p.policyVersion() != version);
                }
                LOG.info("rolled back: generating with policy version {}", version);
            } catch (Exception e) {
                LOG.warn("could not roll back to policy version {} from {}: {}", version, adapterDir, e.toString());
            }
        });
    }

    public int policyVersion() {
        return generator.policyVersion();
    }

    public synchronized int readyCount() {
        return ready.size();
    }

    /**
     * Whether the model has a chat template (its own or --chat-template): conversation prompts need one, and so does
     * training on the conversational export with this model.
     */
    public boolean hasChatTemplate() {
        return chatTemplate;
    }

    public int promptCount() {
        return prompts.size();
    }

    public SamplingParams params() {
        return generator.params();
    }

    /** Whether the generation thread is working; the trainer yields to it. */
    public boolean busy() {
        return busy || !tasks.isEmpty();
    }

    /** Finishes the generation in progress, fails waiting requests, and ends the thread. */
    public CompletableFuture<Void> stop() {
        running = false;
        wake();
        if (!worker.isAlive() && !stopped.isDone()) {
            stopped.complete(null);  // never started
        }
        return stopped;
    }

    private void run() {
        try {
            while (running) {
                Runnable task = tasks.poll();
                if (task == null && needsPair()) {
                    task = this::refill;
                }
                if (task == null) {
                    task = tasks.poll(1, TimeUnit.SECONDS);
                }
                if (task != null && running) {
                    busy = true;
                    try {
                        task.run();
                    } finally {
                        busy = false;
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            synchronized (this) {
                waiters.forEach(w -> w.completeExceptionally(new IllegalStateException("the server is stopping")));
                waiters.clear();
            }
            for (Runnable t; (t = tasks.poll()) != null; ) {
                LOG.debug("dropping generation task at shutdown: {}", t);
            }
            stopped.complete(null);
        }
    }

    private void refill() {
        ActivePrompts.Active p = prompts.next();
        try {
            BattleMaker b = battles;
            ServedPair pair = b == null ? null : b.maybe(p, generator.policyVersion(), votesPerPair);
            if (pair != null) {
                onGenerated.accept(pair);
            } else {
                pair = produce(p, null, null, votesPerPair);
            }
            synchronized (this) {
                // A waiter whose request timed out is already completed; the pair then goes to the next one.
                for (CompletableFuture<ServedPair> w; (w = waiters.poll()) != null; ) {
                    if (w.complete(pair)) {
                        return;
                    }
                }
                if (ready.size() >= poolSize) {
                    evictStale();
                }
                ready.add(pair);
            }
        } catch (Exception e) {
            // A failing prompt or a store hiccup must not kill the pool; pause so a persistent failure cannot spin.
            LOG.warn("could not generate a pair for prompt {}: {}", p.id(), e.toString());
            sleepQuietly(1000);
        }
    }

    private ServedPair produce(ActivePrompts.Active p, TextListener onA, TextListener onB, int votesWanted)
            throws Exception {
        return produce(p, onA, onB, r -> store.addPair(r, votesWanted).thenApply(v -> true));
    }

    /** Generates a pair and stores it with {@code save}; null when save declines it (then it is not announced). */
    private ServedPair produce(ActivePrompts.Active p, TextListener onA, TextListener onB,
                               Function<PairRecord, CompletableFuture<Boolean>> save) throws Exception {
        // Which sample becomes side A is decided before generation so each side's stream goes to the right place.
        boolean aIsFirst = sides.nextBoolean();
        GeneratedPair g = generator.generate(p.input(), p.ids(), aIsFirst ? onA : onB, aIsFirst ? onB : onA);
        Sample a = aIsFirst ? g.first() : g.second(), b = aIsFirst ? g.second() : g.first();
        String id = UUID.randomUUID().toString();
        SamplingParams s = g.params();
        String settings = io.vertx.core.json.JsonObject.of("max_new_tokens", s.maxNewTokens(), "temperature",
                s.temperature(), "top_p", s.topP(), "top_k", s.topK(), "seed", s.seed()).encode();
        if (!save.apply(new PairRecord(id, p.id(), p.input().display(), g.promptIds(), a.text(), a.tokenIds(),
                a.logprobs(), a.finishReason(), b.text(), b.tokenIds(), b.logprobs(), b.finishReason(), aIsFirst,
                g.policyVersion(), settings, System.currentTimeMillis())).get()) {
            return null;
        }
        ServedPair pair = new ServedPair(id, p.input(), a, b, g.policyVersion());
        onGenerated.accept(pair);
        return pair;
    }

    private synchronized boolean needsPair() {
        if (!waiters.isEmpty() || ready.size() < poolSize) {
            return true;
        }
        return firstWithVersion(generator.policyVersion(), false) >= 0;
    }

    private void evictStale() {
        int stale = firstWithVersion(generator.policyVersion(), false);
        ready.remove(Math.max(stale, 0));  // stays in the store: generated, perhaps never voted on
    }

    /** A ready pair of the current version if there is one, else the oldest; null when none is ready. */
    private ServedPair take() {
        if (ready.isEmpty()) {
            return null;
        }
        return ready.remove(Math.max(firstWithVersion(generator.policyVersion(), true), 0));
    }

    /** Index of the first ready pair whose version is current ({@code current} true) or older (false), or -1. */
    private int firstWithVersion(int currentVersion, boolean current) {
        for (int i = 0; i < ready.size(); i++) {
            if ((ready.get(i).policyVersion() >= currentVersion) == current) {
                return i;
            }
        }
        return -1;
    }

    private void wake() {
        if (tasks.isEmpty()) {
            tasks.offer(() -> {});
        }
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
