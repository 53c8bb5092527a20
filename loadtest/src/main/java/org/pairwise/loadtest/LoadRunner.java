package org.pairwise.loadtest;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Runs one load test against a server over HTTP and returns its report. Simulated annotators live on a few client
 * event loops ({@link Driver}s, one per loop) and never block: thousands fit in one process. {@link #run} itself
 * blocks and must not be called on an event loop.
 */
public final class LoadRunner {
    static final String NEXT = "GET /api/pairs/next";
    static final String OWN = "POST /api/pairs";
    static final String VOTE = "POST /api/preferences";
    static final String CONSTANT = "GET /api/bench/constant";
    static final String SKIP = "POST /api/skips";

    /** Attempts of one vote (429 answers and lost responses are retried with the same idempotency key). */
    static final int MAX_ATTEMPTS = 20;
    /** Open loop: operations in flight at most; beyond it the client itself is the bottleneck and says so. */
    static final int MAX_IN_FLIGHT = 100_000;
    /** An annotator asking again for a pair it has already judged gives up after this many tries. */
    static final int MAX_REPEATS = 50;
    private static final int ERROR_SAMPLES = 20;
    private static final List<String> PROMPTS = List.of("Once upon a time, a small robot", "The dragon looked at",
            "Tom found a box in the garden.", "Write a story about a brave mouse.", "The sun was setting when");

    private final LoadConfig cfg;
    final RunSession session;
    final String runId;
    final Map<String, EndpointRecorder> recorders = new LinkedHashMap<>();
    final VoteLedger ledger;
    /** The session's first operation index this phase may use; its ticket i is the phase's i-th operation. */
    long ticketBase;
    private final AtomicLong highestTicket = new AtomicLong(-1);
    final LongAdder retries = new LongAdder();
    final LongAdder repeats = new LongAdder();
    final LongAdder unknownOutcomes = new LongAdder();
    final LongAdder notSent = new LongAdder();
    final ConcurrentLinkedQueue<String> errorSamples = new ConcurrentLinkedQueue<>();
    private final AtomicInteger sampled = new AtomicInteger();
    long startNanos;
    long deadlineNanos;
    List<ServedPair> votePairs = List.of();
    final WebClient client;
    final Vertx vertx;

    private LoadRunner(LoadConfig cfg, RunSession session) {
        this.cfg = cfg;
        this.session = session;
        this.runId = session.runId;
        this.ledger = session.ledger;
        this.client = session.client;
        this.vertx = session.vertx;
        for (String e : switch (cfg.workload()) {
            case ANNOTATE -> {
                List<String> e = new ArrayList<>(List.of(NEXT));
                if (cfg.ownPrompts() > 0) {
                    e.add(OWN);
                }
                e.add(VOTE);
                if (cfg.skipRate() > 0) {
                    e.add(SKIP);
                }
                yield e;
            }
            case NEXT_PAIR -> List.of(NEXT);
            case VOTE -> List.of(VOTE);
            case CONSTANT -> List.of(CONSTANT);
        }) {
            recorders.put(e, new EndpointRecorder(e));
        }
    }

    /** {@link #run(LoadConfig, Runnable)} against a server that keeps running. */
    public static LoadReport run(LoadConfig cfg) throws Exception {
        return run(cfg, null);
    }

    /**
     * Runs {@code cfg} to the end (duration or count), audits if asked, and reports. Blocking. A warm-up, when
     * asked, runs the same load first on the same connections and people and is not measured; the audit's "before"
     * is taken ahead of it, so its votes are audited too. With a store file, the campaign audit waits for the server
     * to settle (finalise and train what the run voted), runs {@code stopServer} when given (the launcher stops a
     * server it started, which writes its last checkpoint, so the checkpoint must then cover every trained item) and
     * reads the file.
     */
    public static LoadReport run(LoadConfig cfg, Runnable stopServer) throws Exception {
        try (RunSession session = new RunSession(cfg)) {
            LoadRunner measured = new LoadRunner(cfg, session);
            Audit audit = new Audit(session.vertx, session.client, cfg.firstUrl(), cfg.adminToken());
            if (cfg.annotatorsFrom() == AnnotatorSource.ACCOUNTS) {
                session.fixed = AccountSetup.create(session.client, cfg.adminToken(), session.runId,
                        cfg.annotators()).await();
            } else if (cfg.tokenMode()) {
                session.fixed = cfg.annotatorTokens().stream().map(Identity::fromToken).toList();
            }
            Audit.StatsSnapshot before = cfg.audit() && cfg.workload().votes() ? audit.stats().await() : null;
            if (cfg.workload() == Workload.VOTE) {
                session.votePairs = measured.fetchDistinctPairs(cfg.pairs()).await();
            }
            long warmUnknown = 0;
            if (!cfg.warmup().isZero()) {
                LoadRunner warm = new LoadRunner(cfg.warmupPhase(), session);
                warm.drive();
                warmUnknown = warm.unknownOutcomes.sum();
            }
            // Nothing is in flight between the phases, so this splits the ledger exactly.
            VoteLedger.Counts warmVotes = session.ledger.counts();
            Instant started = Instant.now();
            double elapsed = measured.drive();
            Audit.Result auditResult = before == null ? null
                    : audit.verify(session.ledger, before, warmUnknown + measured.unknownOutcomes.sum()).await();
            if (auditResult != null && cfg.store() != null) {
                CampaignAudit store = new CampaignAudit(cfg.store(), audit.stats().await().aggregation());
                store.awaitSettled(cfg.settle());
                if (stopServer != null) {
                    stopServer.run();
                }
                auditResult = auditResult.with(store.verify(session.ledger, stopServer != null));
            } else if (stopServer != null) {
                stopServer.run();
            }
            return measured.report(started, elapsed, warmVotes, auditResult);
        }
    }

    LoadConfig config() {
        return cfg;
    }

    /** Runs this phase's load until its deadline or count; returns the seconds it took. */
    private double drive() {
        votePairs = session.votePairs;
        ticketBase = session.nextTicket.get();
        startNanos = System.nanoTime();
        deadlineNanos = cfg.duration() == null ? Long.MAX_VALUE : startNanos + cfg.duration().toNanos();
        long ticker = vertx.setPeriodic(1000, id -> tick());
        List<Future<Void>> drivers = new ArrayList<>();
        List<String> deployments = new ArrayList<>();
        for (int i = 0; i < cfg.eventLoops(); i++) {
            Driver d = new Driver(this, i);
            drivers.add(vertx.deployVerticle(d).compose(id -> {
                synchronized (deployments) {
                    deployments.add(id);
                }
                return d.finished();
            }));
        }
        Future.all(drivers).await();
        vertx.cancelTimer(ticker);
        double elapsed = (System.nanoTime() - startNanos) / 1e9;
        tick();
        session.nextTicket.accumulateAndGet(highestTicket.get() + 1, Math::max);
        deployments.forEach(id -> vertx.undeploy(id).await());
        return elapsed;
    }

    private LoadReport report(Instant started, double elapsed, VoteLedger.Counts warm, Audit.Result auditResult) {
        List<EndpointSummary> endpoints = new ArrayList<>();
        recorders.values().forEach(r -> endpoints.add(r.summary(elapsed)));
        LoadReport.Votes votes = null;
        if (cfg.workload().votes()) {
            VoteLedger.Counts now = ledger.counts();
            long acked = now.acknowledged() - warm.acknowledged();
            votes = new LoadReport.Votes(acked, now.created() - warm.created(),
                    now.duplicates() - warm.duplicates(), EndpointRecorder.round(acked / elapsed), retries.sum(),
                    repeats.sum(), unknownOutcomes.sum(), warm.acknowledged(), ledger.skips().size());
        }
        return new LoadReport(started.toString(), runId, cfg.describe(), EndpointRecorder.round(elapsed),
                notSent.sum(), endpoints, votes, auditResult, List.copyOf(errorSamples));
    }

    private synchronized void tick() {
        double t = (System.nanoTime() - startNanos) / 1e9;
        recorders.values().forEach(r -> r.tick(t));
    }

    /** Fetches pairs until {@code n} distinct ones are in hand (several at a time), for the vote workload. */
    private Future<List<ServedPair>> fetchDistinctPairs(int n) {
        Promise<List<ServedPair>> done = Promise.promise();
        Map<String, ServedPair> got = new LinkedHashMap<>();
        AtomicInteger asks = new AtomicInteger();
        int maxAsks = Math.max(100, n * 20);
        vertx.runOnContext(v -> {
            for (int i = 0; i < Math.min(16, n); i++) {
                fetchInto(got, n, asks, maxAsks, done);
            }
        });
        return done.future();
    }

    private void fetchInto(Map<String, ServedPair> got, int n, AtomicInteger asks, int maxAsks,
                           Promise<List<ServedPair>> done) {
        if (done.future().isComplete()) {
            return;
        }
        if (asks.incrementAndGet() > maxAsks) {
            done.tryFail(new IllegalStateException("the vote workload needs " + n + " distinct pairs; after " + maxAsks
                    + " requests to GET /api/pairs/next only " + got.size() + " were distinct"));
            return;
        }
        request(HttpMethod.GET, "/api/pairs/next", session.fixed.isEmpty() ? null : session.fixed.getFirst(), null).onComplete(ar -> {
            if (ar.succeeded() && ar.result().statusCode() == 200) {
                ServedPair p = ServedPair.fromJson(ar.result().bodyAsJsonObject());
                got.putIfAbsent(p.id(), p);
                if (got.size() >= n) {
                    done.tryComplete(List.copyOf(got.values()));
                    return;
                }
            } else if (ar.failed() || ar.result().statusCode() != 503) {
                done.tryFail(new IllegalStateException("fetching pairs for the vote workload: " + (ar.failed()
                        ? ar.cause().toString() : ar.result().statusCode() + " " + ar.result().bodyAsString())));
                return;
            }
            fetchInto(got, n, asks, maxAsks, done);
        });
    }

    // ---- shared by the drivers (thread-safe) ----

    /** Claims the next operation's index; -1 when the run is over (deadline or count). */
    long claim() {
        if (System.nanoTime() >= deadlineNanos) {
            return -1;
        }
        long t = session.nextTicket.getAndIncrement();
        if (t - ticketBase >= limit()) {
            return -1;
        }
        noteTicket(t);
        return t;
    }

    /** An open-loop driver started the operation with session ticket {@code t}. */
    void noteTicket(long t) {
        highestTicket.accumulateAndGet(t, Math::max);
    }

    /**
     * Operations at most: the count, and for the vote workload with tokens or accounts the distinct annotator/pair
     * combinations there are (a token's name is fixed, so one token can judge each pair once).
     */
    long limit() {
        long n = cfg.votes() > 0 ? cfg.votes() : Long.MAX_VALUE;
        return Math.min(n, combinationLimit() - ticketBase);
    }

    /**
     * Session tickets below this exist: with fixed identities (tokens, accounts) a vote run has people x pairs
     * combinations, over all phases.
     */
    private long combinationLimit() {
        return cfg.workload() == Workload.VOTE && !session.fixed.isEmpty()
                ? (long) session.fixed.size() * votePairs.size() : Long.MAX_VALUE;
    }

    boolean pastDeadline() {
        return System.nanoTime() >= deadlineNanos;
    }

    EndpointRecorder recorder(String endpoint) {
        return recorders.get(endpoint);
    }

    Identity identity(long index) {
        if (!session.fixed.isEmpty()) {
            return session.fixed.get((int) (index % session.fixed.size()));
        }
        // The session's random secret and the person's index: distinct people, each the same person all run long.
        return new Identity("lt-" + runId + "-" + index, null, session.identitySecret + "-" + index);
    }

    String nextIdempotencyKey() {
        return "lt-" + runId + "-" + session.keys.incrementAndGet();
    }

    String ownPrompt(SplittableRandom rng) {
        return PROMPTS.get(rng.nextInt(PROMPTS.size()));
    }

    void sampleError(String what) {
        if (sampled.getAndIncrement() < ERROR_SAMPLES) {
            errorSamples.add(what);
        }
    }

    Future<HttpResponse<Buffer>> request(HttpMethod method, String path, Identity who, Buffer body) {
        HttpRequest<Buffer> req = session.nodeOf(who).request(method, path).timeout(cfg.timeout().toMillis());
        if (who != null && who.bearer() != null) {
            req.putHeader("Authorization", "Bearer " + who.bearer());
        }
        if (who != null && who.cookie() != null) {
            req.putHeader("Cookie", Identity.COOKIE + "=" + who.cookie());
        }
        if (body == null) {
            return req.send();
        }
        return req.putHeader("Content-Type", "application/json").sendBuffer(body);
    }

    /** The vote's body; the annotator field is left out in token mode, where the server takes it from the token. */
    Buffer voteBody(ServedPair p, String choice, Identity who, String key) {
        JsonObject o = new JsonObject().put("pair_id", p.id()).put("choice", choice).put("idempotency_key", key);
        if (who.bearer() == null) {
            o.put("annotator", who.name());
        }
        return o.toBuffer();
    }

    /** Milliseconds to wait before retrying: Retry-After (seconds) when given, else exponential from 50 ms. */
    static long retryDelayMillis(String retryAfter, int attempt) {
        if (retryAfter != null) {
            try {
                double s = Double.parseDouble(retryAfter.strip());
                if (s >= 0) {
                    return Math.max(1, Math.round(s * 1000));
                }
            } catch (NumberFormatException ignored) {
                // an HTTP date: rare for 429; fall through to the backoff
            }
        }
        return Math.min(2000, 50L << Math.min(attempt, 6));
    }

    static long nanosToMillisCeil(long nanos) {
        return Math.max(1, TimeUnit.NANOSECONDS.toMillis(nanos + 999_999));
    }
}
