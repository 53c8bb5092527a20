package org.pairwise.loadtest;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
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
    final String runId = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(2);
    final Map<String, EndpointRecorder> recorders = new LinkedHashMap<>();
    final VoteLedger ledger = new VoteLedger();
    final AtomicLong tickets = new AtomicLong();
    final AtomicLong keys = new AtomicLong();
    final LongAdder retries = new LongAdder();
    final LongAdder repeats = new LongAdder();
    final LongAdder unknownOutcomes = new LongAdder();
    final LongAdder notSent = new LongAdder();
    final ConcurrentLinkedQueue<String> errorSamples = new ConcurrentLinkedQueue<>();
    private final AtomicInteger sampled = new AtomicInteger();
    long startNanos;
    long deadlineNanos;
    List<ServedPair> votePairs = List.of();
    WebClient client;
    Vertx vertx;

    private LoadRunner(LoadConfig cfg) {
        this.cfg = cfg;
        for (String e : switch (cfg.workload()) {
            case ANNOTATE -> cfg.ownPrompts() > 0 ? List.of(NEXT, OWN, VOTE) : List.of(NEXT, VOTE);
            case NEXT_PAIR -> List.of(NEXT);
            case VOTE -> List.of(VOTE);
            case CONSTANT -> List.of(CONSTANT);
        }) {
            recorders.put(e, new EndpointRecorder(e));
        }
    }

    /**
     * Runs {@code cfg} to the end (duration or count), audits if asked, and reports. Blocking. A warm-up, when
     * asked, runs first in this process and is not reported; the audit's "before" is taken after it.
     */
    public static LoadReport run(LoadConfig cfg) throws Exception {
        if (!cfg.warmup().isZero()) {
            new LoadRunner(cfg.warmupPhase()).execute();
        }
        return new LoadRunner(cfg).execute();
    }

    LoadConfig config() {
        return cfg;
    }

    private LoadReport execute() throws Exception {
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(cfg.eventLoops()));
        try {
            int port = cfg.url().getPort() > 0 ? cfg.url().getPort() : cfg.url().getScheme().equals("https") ? 443 : 80;
            client = WebClient.create(vertx, new WebClientOptions().setDefaultHost(cfg.url().getHost())
                    .setDefaultPort(port).setSsl(cfg.url().getScheme().equals("https")).setKeepAlive(true)
                    .setTcpNoDelay(true).setPipelining(cfg.pipelining() > 1).setPipeliningLimit(cfg.pipelining())
                    .setUserAgent("pairwise-loadtest"),
                    new PoolOptions().setHttp1MaxSize(cfg.connections()).setMaxWaitQueueSize(-1));
            Audit audit = new Audit(vertx, client, cfg.url(), cfg.adminToken());
            Audit.StatsSnapshot before = cfg.audit() && cfg.workload().votes() ? audit.stats().await() : null;
            if (cfg.workload() == Workload.VOTE) {
                votePairs = fetchDistinctPairs(cfg.distinctPairs()).await();
            }

            startNanos = System.nanoTime();
            Instant started = Instant.now();
            deadlineNanos = cfg.duration() == null ? Long.MAX_VALUE : startNanos + cfg.duration().toNanos();
            long ticker = vertx.setPeriodic(1000, id -> tick());
            List<Future<Void>> drivers = new ArrayList<>();
            for (int i = 0; i < cfg.eventLoops(); i++) {
                Driver d = new Driver(this, i);
                drivers.add(vertx.deployVerticle(d).compose(id -> d.finished()));
            }
            Future.all(drivers).await();
            vertx.cancelTimer(ticker);
            double elapsed = (System.nanoTime() - startNanos) / 1e9;
            tick();

            Audit.Result auditResult = before == null ? null
                    : audit.verify(ledger, before, unknownOutcomes.sum()).await();
            List<EndpointSummary> endpoints = new ArrayList<>();
            recorders.values().forEach(r -> endpoints.add(r.summary(elapsed)));
            LoadReport.Votes votes = cfg.workload().votes() ? new LoadReport.Votes(ledger.acknowledged(),
                    ledger.created(), ledger.duplicateReplies(), EndpointRecorder.round(ledger.acknowledged() / elapsed),
                    retries.sum(), repeats.sum(), unknownOutcomes.sum()) : null;
            return new LoadReport(started.toString(), runId, cfg.describe(), EndpointRecorder.round(elapsed),
                    notSent.sum(), endpoints, votes, auditResult, List.copyOf(errorSamples));
        } finally {
            vertx.close().await();
        }
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
        request(HttpMethod.GET, "/api/pairs/next", cfg.tokenMode() ? Identity.fromToken(cfg.annotatorTokens().getFirst())
                : null, null).onComplete(ar -> {
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
        long t = tickets.getAndIncrement();
        return t >= limit() ? -1 : t;
    }

    /**
     * Operations at most: the count, and for the vote workload in token mode the distinct annotator/pair
     * combinations there are (a token's name is fixed, so one token can judge each pair once).
     */
    long limit() {
        long n = cfg.count() > 0 ? cfg.count() : Long.MAX_VALUE;
        if (cfg.workload() == Workload.VOTE && cfg.tokenMode()) {
            n = Math.min(n, (long) cfg.annotatorTokens().size() * votePairs.size());
        }
        return n;
    }

    boolean pastDeadline() {
        return System.nanoTime() >= deadlineNanos;
    }

    EndpointRecorder recorder(String endpoint) {
        return recorders.get(endpoint);
    }

    Identity identity(long index) {
        if (cfg.tokenMode()) {
            return Identity.fromToken(cfg.annotatorTokens().get((int) (index % cfg.annotatorTokens().size())));
        }
        return new Identity("lt-" + runId + "-" + index, null);
    }

    String nextIdempotencyKey() {
        return "lt-" + runId + "-" + keys.incrementAndGet();
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
        HttpRequest<Buffer> req = client.request(method, path).timeout(cfg.timeout().toMillis());
        if (who != null && who.bearer() != null) {
            req.putHeader("Authorization", "Bearer " + who.bearer());
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
