package org.pairwise.server;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.pairwise.accel.Backend;
import org.pairwise.accel.Backends;
import org.pairwise.model.Engine;
import org.pairwise.model.engine.LlamaModel;
import org.pairwise.model.engine.SequenceScorer;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.model.sample.SamplingParams;
import org.pairwise.server.auth.AdminToken;
import org.pairwise.server.cluster.ClusterNode;
import org.pairwise.server.config.ServeConfig;
import org.pairwise.server.gen.BattleMaker;
import org.pairwise.server.gen.GeneratorVerticle;
import org.pairwise.server.gen.PairGenerator;
import org.pairwise.server.gen.PairGenerator.PromptInput;
import org.pairwise.server.gen.PairPool;
import org.pairwise.server.gen.PromptSet;
import org.pairwise.server.http.ApiServices;
import org.pairwise.server.http.HttpVerticle;
import org.pairwise.server.quality.QualityControl;
import org.pairwise.server.store.PreferenceStore;
import org.pairwise.server.store.StoreLocation;
import org.pairwise.server.train.PolicyGuard;
import org.pairwise.server.train.PublishedPolicies;
import org.pairwise.server.train.TrainerLoop;
import org.pairwise.server.train.TrainerVerticle;
import org.pairwise.trainer.online.ContinualTrainer;

/**
 * The whole online loop in one process: the model opened twice over the same memory-mapped weights (one backend per
 * thread budget: generation, training), the preference store, the pair pool, the trainer, and the Vert.x verticles
 * in front of them. {@link #start} returns once the server listens; {@link #close} stops it cleanly (no new
 * requests, the generation and the step in progress finish, a trainer checkpoint, the store drained).
 */
public final class PairwiseServer implements AutoCloseable {
    /** The SQLite file under data_dir. */
    public static final String DB_FILE = StoreLocation.DEFAULT_FILE;

    /** Opens the preference store (tests substitute one that misbehaves on purpose). */
    @FunctionalInterface
    public interface StoreOpener {
        PreferenceStore open(StoreLocation at, int writeQueueCapacity) throws Exception;
    }

    private final ServeConfig config;
    private final AdminToken adminToken;
    private final ContinualTrainer.Resumed resumed;
    private final Deque<AutoCloseable> resources;
    private final Vertx vertx;
    private final List<String> deployments;
    private final int port;
    private boolean closed;

    private PairwiseServer(ServeConfig config, AdminToken adminToken, ContinualTrainer.Resumed resumed,
                           Deque<AutoCloseable> resources, Vertx vertx, List<String> deployments, int port) {
        this.config = config;
        this.adminToken = adminToken;
        this.resumed = resumed;
        this.resources = resources;
        this.vertx = vertx;
        this.deployments = deployments;
        this.port = port;
    }

    public static PairwiseServer start(ServeConfig cfg) throws Exception {
        return start(cfg, StoreLocation::open);
    }

    /**
     * Starts the server on cfg's data dir. Checked first, each failing with a {@link StartException} in words: the data
     * dir can be created and written and no other server holds it, the port is free (before anything is written, the
     * admin token included), and the model is the one the data dir was created with.
     */
    public static PairwiseServer start(ServeConfig cfg, StoreOpener opener) throws Exception {
        Deque<AutoCloseable> opened = new ArrayDeque<>();
        AdminToken token = null;
        // First: a store password file that cannot be read is bad configuration (exit 2), before anything starts.
        StoreLocation storeAt = cfg.storeLocation(System.getenv("PGPASSWORD"));
        try {
            Path data = cfg.dataPath();
            DataDir dataDir = DataDir.lock(data);
            opened.push(dataDir);
            if (cfg.port() != 0) {
                checkPortFree(cfg.host(), cfg.port());
            }
            token = AdminToken.resolve(cfg.adminToken(), data);
            Engine engine = Engine.open(cfg.model(), cfg.tokenizer() == null ? null : Path.of(cfg.tokenizer()),
                    cfg.dpo().chatTemplate() == null ? null : Path.of(cfg.dpo().chatTemplate()), cfg.backend(),
                    cfg.resolvedGenerationThreads());
            opened.push(engine);
            dataDir.checkModel(cfg.model(), engine.config());
            // Training gets its own backend (thread pool) over the same mapped weights: no copy of the model.
            Backend trainBackend = Backends.open(cfg.backend(), cfg.resolvedTrainingThreads());
            opened.push(trainBackend);
            LlamaModel trainModel = LlamaModel.load(engine.checkpoint(), trainBackend);
            PreferenceStore store = opener.open(storeAt, cfg.writeQueueCapacity());
            opened.push(store);

            Path initialAdapter = cfg.adapter() == null ? null : Path.of(cfg.adapter());
            ContinualTrainer trainer = new ContinualTrainer(trainModel, cfg.dpo(), cfg.publishEvery(),
                    cfg.trainerDir(), cfg.keepCheckpoints(), engine.checkpoint().source(),
                    initialAdapter == null ? null : LoraAdapter.load(initialAdapter, engine.config(), trainBackend));
            PublishedPolicies policies = new PublishedPolicies(data.resolve("policy"), initialAdapter,
                    cfg.keepVersions());

            // Seeds move on with every stored pair, so a restart does not serve the pairs of the previous run again.
            long pairsSoFar = store.stats().get().pairs();
            long seed = cfg.dpo().seed() + 2 * pairsSoFar;
            PairGenerator generator = new PairGenerator(engine, engine.model(), new SamplingParams(cfg.maxNewTokens(),
                    cfg.temperature(), cfg.topP(), cfg.topK(), seed), null, 0);
            PairPool pool = new PairPool(generator, store, cfg.poolSize(), cfg.votesPerPair(), engine, seed);
            opened.push(() -> pool.stop().get(60, TimeUnit.SECONDS));
            pool.battles(new BattleMaker(engine.model(), engine.tokenizer(), engine.backend(), store,
                    BattleMaker.Versions.of(policies::kept, policies::existing), cfg.evalFraction(),
                    generator.params(), cfg.dpo().seed()));
            // The guard's reference is version 0 (the starting adapter, or the base), scored on the trainer's model.
            PolicyGuard guard = new PolicyGuard(new PolicyGuard.Settings(cfg.maxKl(), cfg.klPairs(),
                    cfg.minBattleWinRate(), cfg.excludeFlagged()), store, new SequenceScorer(trainModel, 4096),
                    initialAdapter == null ? null : LoraAdapter.load(initialAdapter, engine.config(), trainBackend),
                    policies.holdRecord());
            TrainerLoop loop = new TrainerLoop(trainer, trainBackend, store, policies, cfg.batchWindowMs(),
                    cfg.finalising(), pool::busy, guard);
            opened.push(() -> loop.stop().get(120, TimeUnit.SECONDS));

            // The automatic flags, on their own thread; closed before the store (resources close last-in first).
            opened.push(new QualityControl(store, cfg.flagRule()).start());

            // One process: the trainer resumes now, and its newest version (or the one a hold on publishing names) is
            // served. A cluster node serves the database's newest version; it resumes the trainer once elected.
            ClusterNode cluster = null;
            ContinualTrainer.Resumed resumed;
            int served;
            if (cfg.cluster()) {
                cluster = ClusterNode.open(cfg, (StoreLocation.PostgresDatabase) storeAt, policies);
                opened.push(cluster);
                served = cluster.newestVersion();
                resumed = new ContinualTrainer.Resumed(0, served, 0, null, 0);
            } else {
                resumed = loop.resume();
                served = loop.servedVersion();
            }
            Path policyDir = policies.existing(served);
            if (policyDir != null) {
                generator.setPolicy(LoraAdapter.load(policyDir, engine.config(), engine.backend()), served);
            }
            if (cfg.prompts() == null) {
                pool.loadPrompts(PromptSet.builtin(), PromptSet.BUILTIN_SOURCE);
            } else {
                Path file = Path.of(cfg.prompts());
                List<PromptInput> prompts = PromptSet.parse(Files.readString(file), file.toString());
                pool.loadPrompts(prompts, "file:" + file.getFileName());
            }

            PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            VertxOptions options = new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions()
                    .setEnabled(true));
            var builder = Vertx.builder().withMetrics(new MicrometerMetricsFactory(registry));
            Vertx vertx = cluster == null ? builder.with(options).build() : await(cluster.vertx(builder, options));
            opened.push(() -> await(vertx.close()));
            ExecutorService io = Executors.newCachedThreadPool(Thread.ofPlatform().name("pairwise-io-", 0).daemon()
                    .factory());
            opened.push(io::shutdownNow);
            ServerMetrics metrics = new ServerMetrics(registry, pool, loop);

            String trainerId = cluster == null ? await(vertx.deployVerticle(new TrainerVerticle(loop, metrics))) : null;
            String generatorId = await(vertx.deployVerticle(new GeneratorVerticle(pool, metrics,
                    cluster == null ? GeneratorVerticle.PolicyDirs.ANNOUNCED : cluster.policyDirs())));
            HttpVerticle http = new HttpVerticle(new ApiServices(cfg, store, pool, loop, policies, token.value(),
                    registry, metrics, io, cluster));
            String httpId;
            try {
                httpId = await(vertx.deployVerticle(http));
            } catch (Exception e) {
                throw isBindFailure(e) ? portInUse(cfg.host(), cfg.port(), e) : e;
            }
            // Undeployed in this order on close: HTTP first (no new votes), then generation and training (a cluster
            // node's trainer is added once it is elected).
            List<String> deployments = new CopyOnWriteArrayList<>(List.of(httpId, generatorId));
            if (trainerId != null) {
                deployments.add(trainerId);
            } else if (cluster != null) {
                String url = "http://" + (cfg.host().equals("0.0.0.0") ? "127.0.0.1" : cfg.host()) + ":"
                        + http.actualPort();
                deployments.add(1, await(vertx.deployVerticle(cluster.registry(() -> new io.vertx.core.json.JsonObject()
                        .put("url", url).put("served_version", pool.policyVersion()).put("pool",
                                new io.vertx.core.json.JsonObject().put("ready", pool.readyCount())
                                        .put("size", cfg.poolSize())), loop))));
                cluster.joinElection(loop, vertx, () -> new TrainerVerticle(loop, metrics), deployments);
            }
            return new PairwiseServer(cfg, token, resumed, opened, vertx, deployments, http.actualPort());
        } catch (Exception | Error e) {
            closeAll(opened, e);
            if (token != null && token.generated()) {
                // A start that failed leaves no token behind: the next start generates (and prints) one again.
                try {
                    Files.deleteIfExists(token.file());
                } catch (IOException cleanup) {
                    e.addSuppressed(cleanup);
                }
            }
            throw e;
        }
    }

    /** Binds and releases the port, so a port in use fails the start before a model is loaded or a file written. */
    private static void checkPortFree(String host, int port) throws StartException {
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);  // as Vert.x does: a port left in TIME_WAIT is free
            probe.bind(new InetSocketAddress(host, port));
        } catch (IOException e) {
            throw isBindFailure(e) ? portInUse(host, port, e)
                    : new StartException("cannot listen on " + host + ":" + port + ": " + DataDir.why(e), e);
        }
    }

    private static boolean isBindFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BindException) {
                return true;
            }
        }
        return false;
    }

    private static StartException portInUse(String host, int port, Throwable cause) {
        return new StartException("port " + port + " on " + host + " is in use (another program listens there); "
                + "choose another with --port", cause);
    }

    public int port() {
        return port;
    }

    public String url() {
        String host = config.host().equals("0.0.0.0") || config.host().equals("::") ? "localhost" : config.host();
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    public String adminToken() {
        return adminToken.value();
    }

    /** Whether this start generated the admin token (the only time it is printed), and where it is kept. */
    public AdminToken adminTokenInfo() {
        return adminToken;
    }

    public ServeConfig config() {
        return config;
    }

    /** Where training resumed: step, policy version and the last vote trained on (all 0 on a fresh data dir). */
    public ContinualTrainer.Resumed resumed() {
        return resumed;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Exception first = null;
        for (String id : deployments) {
            try {
                await(vertx.undeploy(id));
            } catch (Exception e) {
                first = first == null ? e : first;
            }
        }
        closeAll(resources, first);
    }

    private static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    }

    private static void closeAll(Deque<AutoCloseable> resources, Throwable cause) {
        while (!resources.isEmpty()) {
            try {
                resources.pop().close();
            } catch (Exception e) {
                if (cause != null) {
                    cause.addSuppressed(e);
                } else {
                    org.slf4j.LoggerFactory.getLogger(PairwiseServer.class).warn("error while closing", e);
                }
            }
        }
    }
}
