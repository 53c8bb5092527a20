package org.pairwise.loadtest;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.net.URI;
import java.time.Duration;

/** Waits for a server's pair pool to be full (GET /api/stats: pool.ready >= pool.size). Blocking. */
public final class PoolProbe {
    private PoolProbe() {}

    /** So that a run measures serving, not the generator's warm-up. */
    public static void awaitFull(URI server, Duration timeout) throws InterruptedException {
        awaitFull(server, null, timeout);
    }

    /** With the admin token (may be null): a token-mode or accounts-mode server answers nobody else. */
    public static void awaitFull(URI server, String adminToken, Duration timeout) throws InterruptedException {
        Vertx vertx = Vertx.vertx();
        try {
            WebClient client = WebClient.create(vertx);
            long end = System.nanoTime() + timeout.toNanos();
            while (true) {
                var req = client.getAbs(server.resolve("/api/stats").toString());
                var r = (adminToken == null ? req : req.putHeader("Authorization", "Bearer " + adminToken)).send()
                        .await();
                if (r.statusCode() != 200) {
                    throw new IllegalStateException("GET /api/stats answered " + r.statusCode());
                }
                JsonObject pool = r.bodyAsJsonObject().getJsonObject("pool");
                if (pool != null && pool.getInteger("ready", 0) >= pool.getInteger("size", 0)) {
                    return;
                }
                if (System.nanoTime() > end) {
                    throw new IllegalStateException("the pair pool did not fill in " + Durations.format(timeout)
                            + " (" + pool + ")");
                }
                Thread.sleep(100);
            }
        } finally {
            vertx.close().await();
        }
    }
}
