package org.pairwise.loadtest;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

/**
 * What the warm-up and the measured phase of one run share. The measured phase continues on the warm connections,
 * with the same simulated people (who remember which pairs they judged) and the same ledger, so the audit, whose
 * "before" is taken ahead of the warm-up, covers every vote of the run; nothing is torn down or set up between the
 * phases that the first measured second would pay for.
 */
final class RunSession implements AutoCloseable {
    final String runId = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(2);
    /** What the simulated people's identity cookies start with: 128 random bits, so nobody else can guess them. */
    final String identitySecret = randomHex(16);
    final Vertx vertx;
    /** One client per server named (a cluster's nodes); {@link #client} is the first, for setup and the audit. */
    final List<WebClient> nodes;
    final WebClient client;
    final VoteLedger ledger = new VoteLedger();
    final AtomicLong keys = new AtomicLong();
    /** The next operation index not used by any phase: vote identities derive from it and must not repeat. */
    final AtomicLong nextTicket = new AtomicLong();
    private final Map<Integer, Driver.Annotator> annotators = new ConcurrentHashMap<>();
    volatile List<ServedPair> votePairs = List.of();
    /** Tokens or accounts the people take in turn; empty: each person an identity cookie of its own. */
    volatile List<Identity> fixed = List.of();

    RunSession(LoadConfig cfg) {
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(cfg.eventLoops()));
        // The connection budget is shared evenly by the nodes.
        int connections = Math.max(1, cfg.connections() / cfg.url().size());
        nodes = cfg.url().stream().map(u -> client(u, cfg, connections)).toList();
        client = nodes.getFirst();
    }

    private WebClient client(java.net.URI url, LoadConfig cfg, int connections) {
        int port = url.getPort() > 0 ? url.getPort() : url.getScheme().equals("https") ? 443 : 80;
        return WebClient.create(vertx, new WebClientOptions().setDefaultHost(url.getHost())
                .setDefaultPort(port).setSsl(url.getScheme().equals("https")).setKeepAlive(true)
                .setTcpNoDelay(true).setPipelining(cfg.pipelining() > 1).setPipeliningLimit(cfg.pipelining())
                .setUserAgent("pairwise-loadtest"),
                new PoolOptions().setHttp1MaxSize(connections).setMaxWaitQueueSize(-1));
    }

    /** The node a person talks to: the same one for the whole run, the people spread evenly over the nodes. */
    WebClient nodeOf(Identity who) {
        if (who == null || nodes.size() == 1) {
            return client;
        }
        // A person is their name: mixed, so that names that differ only in a counter spread over the nodes.
        int h = who.name().hashCode() * 0x9E3779B9;
        return nodes.get(Math.floorMod(h ^ (h >>> 16), nodes.size()));
    }

    private static String randomHex(int bytes) {
        byte[] b = new byte[bytes];
        new java.security.SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** Simulated person {@code key}, created on first use; a phase hands it to one event loop at a time. */
    Driver.Annotator annotator(int key, IntFunction<Driver.Annotator> create) {
        return annotators.computeIfAbsent(key, create::apply);
    }

    @Override
    public void close() {
        vertx.close().await();
    }
}
