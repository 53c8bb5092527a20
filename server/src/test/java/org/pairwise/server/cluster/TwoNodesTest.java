package org.pairwise.server.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.server.PairwiseServer;
import org.pairwise.server.TestServers;
import org.pairwise.server.TestServers.Client;
import org.pairwise.server.config.ServeConfig;
import org.pairwise.server.store.pg.SharedPostgres;

/**
 * Two cluster nodes in one JVM (Hazelcast on loopback) over one real PostgreSQL database: the first takes the
 * trainer lock, votes cast through the second are trained by the first, and the version it publishes reaches the
 * second's generator through the database; when the first closes, the second takes the lock over, resumes from the
 * database's checkpoint, and goes on training from the version the first reached.
 */
@ExtendWith(VertxExtension.class)
class TwoNodesTest {
    static String store;
    static final Duration WAIT = Duration.ofSeconds(60);
    static final String ADMIN = "cluster-admin-token-0123456789abcdef0123456789";

    @TempDir
    Path dir;

    @BeforeAll
    static void database() throws Exception {
        store = SharedPostgres.url(SharedPostgres.freshDatabase("cluster"));
    }

    ServeConfig node(String name, int clusterPort, String clusterName) {
        return TestServers.config(dir.resolve(name), Map.of("store", store, "cluster", "true",
                "cluster_port", Integer.toString(clusterPort), "cluster_name", clusterName, "admin_token", ADMIN));
    }

    static JsonObject stats(Client c) {
        return c.asAdmin().get("/api/stats").bodyAsJsonObject();
    }

    static void voteOn(Client c, String person, int n) {
        for (int i = 0; i < n; i++) {
            JsonObject pair = TestServers.await(() -> c.as(person).get("/api/pairs/next"),
                    r -> r.statusCode() == 200, WAIT, "a pair").bodyAsJsonObject();
            assertEquals(201, c.vote(pair.getString("pair_id"), "a", person).statusCode());
        }
    }

    @Test
    void oneNodeTrainsVersionsReachTheOtherAndTheOtherTakesOver(Vertx vertx) throws Exception {
        int port = 20_000 + ThreadLocalRandom.current().nextInt(20_000);
        String name = "test-" + Long.toHexString(ThreadLocalRandom.current().nextLong());
        WebClient web = WebClient.create(vertx);
        long t0 = System.nanoTime();
        PairwiseServer a = PairwiseServer.start(node("a", port, name));
        long t1 = System.nanoTime();
        try (PairwiseServer b = PairwiseServer.start(node("b", port, name))) {
            System.out.printf("[two nodes] a started in %.1f s, b (joining a) in %.1f s%n", (t1 - t0) / 1e9,
                    (System.nanoTime() - t1) / 1e9);
            Client viaA = new Client(web, a.port(), ADMIN);
            Client viaB = new Client(web, b.port(), ADMIN);
            TestServers.await(() -> stats(viaA).getJsonObject("trainer").getString("state"),
                    s -> !s.equals("starting"), WAIT, "node a to be elected and start training");

            voteOn(viaB, "bob", 3);
            JsonObject onB = TestServers.await(() -> stats(viaB), s -> s.getInteger("policy_version") >= 3, WAIT,
                    "node b to serve the version node a trained from b's votes");
            int reached = onB.getInteger("policy_version");
            // b shows the trainer's status, a's, as a last published it (at most 2 s old).
            TestServers.await(() -> stats(viaB).getJsonObject("trainer"), t -> t.getInteger("policy_version")
                    >= reached, WAIT, "b to show a's trainer status");

            // Both nodes see both, and the same trainer: a.
            JsonObject viewA = TestServers.await(() -> stats(viaA).getJsonObject("cluster"),
                    c -> c.getJsonArray("nodes").size() == 2 && c.getString("trainer_node") != null, WAIT,
                    "a to see both nodes and a trainer");
            JsonObject viewB = TestServers.await(() -> stats(viaB).getJsonObject("cluster"),
                    c -> c.getJsonArray("nodes").size() == 2 && c.getString("trainer_node") != null, WAIT,
                    "b to see both nodes and a trainer");
            assertEquals(viewA.getString("this_node"), viewB.getString("trainer_node"), viewB.encode());
            assertEquals(viewA.getString("this_node"), viewA.getString("trainer_node"));
            assertEquals("http://127.0.0.1:" + b.port(), viewA.getJsonArray("nodes").stream()
                    .map(o -> ((JsonObject) o)).filter(n -> n.getString("node_id").equals(viewB.getString("this_node")))
                    .findFirst().orElseThrow().getString("url"));
            assertTrue(Files.isRegularFile(dir.resolve("b").resolve("policy").resolve("version-" + reached)
                    .resolve("adapter_config.json")), "b fetched the adapter from the database");

            // The trainer's state lives on the trainer: b refuses a rollback and names a.
            var refused = viaB.asAdmin().post("/api/policy/rollback", new JsonObject().put("version", 0).encode());
            assertEquals(409, refused.statusCode(), refused.bodyAsString());
            assertEquals("this node does not train: send this to the node that does, http://127.0.0.1:" + a.port(),
                    refused.bodyAsJsonObject().getString("error"));
            long closing = System.nanoTime();
            a.close();
            System.out.printf("[two nodes] a closed in %.1f s%n", (System.nanoTime() - closing) / 1e9);
            // b takes the lock over, resumes from the database's checkpoint and trains on.
            voteOn(viaB, "carol", 2);
            JsonObject after = TestServers.await(() -> stats(viaB), s -> s.getInteger("policy_version") >= reached + 2
                    && s.getLong("untrained_ab_votes") == 0, WAIT, "node b to take over training and publish past v"
                    + reached);
            assertEquals(reached + 2, after.getJsonObject("trainer").getInteger("steps"), "b resumed at a's step "
                    + reached + " and took one step per vote: nothing trained twice, nothing skipped");
            TestServers.await(() -> stats(viaB).getJsonObject("cluster"), c -> c.getJsonArray("nodes").size() == 1
                    && c.getString("this_node").equals(c.getString("trainer_node")), WAIT,
                    "b to see a gone and itself the trainer");
            System.out.printf("[two nodes] b trained past v%d %.1f s after a closed%n", reached,
                    (System.nanoTime() - closing) / 1e9);
        } finally {
            a.close();
        }
    }
}
