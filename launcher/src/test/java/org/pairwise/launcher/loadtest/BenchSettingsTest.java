package org.pairwise.launcher.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.loadtest.PoolProbe;
import org.pairwise.server.PairwiseServer;
import org.pairwise.server.TestServers;
import org.pairwise.server.TestServers.Client;

/** The two serve settings the load test relies on: pair_views and bench_route (off by default). */
@ExtendWith(VertxExtension.class)
class BenchSettingsTest {
    @TempDir
    Path dir;

    @Test
    void eachReadyPairIsServedPairViewsTimesAndTheBenchRouteAnswersAConstant(Vertx vertx) throws Exception {
        try (PairwiseServer server = PairwiseServer.start(TestServers.config(dir, Map.of("model", "demo",
                "pool_size", "4", "pair_views", "3", "bench_route", "true", "generation_threads", "1")))) {
            PoolProbe.awaitFull(URI.create(server.url()), Duration.ofMinutes(2));
            Client http = new Client(WebClient.create(vertx), server.port(), server.adminToken());
            Map<String, Integer> served = new HashMap<>();
            for (int i = 0; i < 30; i++) {
                var r = http.get("/api/pairs/next");
                assertEquals(200, r.statusCode(), r.bodyAsString());
                served.merge(r.bodyAsJsonObject().getString("pair_id"), 1, Integer::sum);
            }
            // Never more than pair_views times each; and the pool refills, so 30 requests need at least 10 pairs.
            assertTrue(served.values().stream().allMatch(n -> n <= 3), served.toString());
            assertTrue(served.size() >= 10, served.toString());

            var c = http.get("/api/bench/constant");
            assertEquals(200, c.statusCode());
            assertEquals("{\"ok\":true}", c.bodyAsString());
            assertEquals("{\"ok\":true}", http.get("/api/bench/constant").bodyAsString(), "the buffer is reusable");
        }
    }

    @Test
    void theBenchRouteIsOffByDefault(Vertx vertx) throws Exception {
        try (PairwiseServer server = PairwiseServer.start(TestServers.config(dir, Map.of("model", "demo")))) {
            Client http = new Client(WebClient.create(vertx), server.port(), server.adminToken());
            assertEquals(404, http.get("/api/bench/constant").statusCode());
        }
    }
}
