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
        int port = cfg.url().getPort() > 0 ? cfg.url().getPort() : cfg.url().getScheme().equals("https") ? 443 : 80;
        client = WebClient.create(vertx, new WebClientOptions().setDefaultHost(cfg.url().getHost())
                .setDefaultPort(port).setSsl(cfg.url().getScheme().equals("https")).setKeepAlive(true)
                .setTcpNoDelay(true).setPipelining(cfg.pipelining() > 1).setPipeliningLimit(cfg.pipelining())
                .setUserAgent("pairwise-loadtest"),
                new PoolOptions().setHttp1MaxSize(cfg.connections()).setMaxWaitQueueSize(-1));
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
