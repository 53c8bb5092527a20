package org.pairwise.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.server.TestServers.Client;
import org.pairwise.server.store.FullDisk;
import org.pairwise.server.store.SqlitePreferenceStore;
import org.pairwise.server.store.StoreLocation;

/**
 * A running server whose disk fills up: votes get 507 with a JSON error in words (no database text), the trainer
 * stalls instead of failing, and once the space is back votes are stored and training goes on by itself. A restart
 * while the disk is still full starts, serves reads, refuses votes the same way, and recovers the same way.
 */
@ExtendWith(VertxExtension.class)
class DiskFullServerTest {
    @TempDir
    Path dir;

    private final Set<Long> acknowledged = new HashSet<>();
    private final Set<String> refused = new HashSet<>();  // "pair/annotator"
    private int next;

    @Test
    void onARealFullFileSystem(Vertx vertx) throws Exception {
        try (FullDisk disk = FullDisk.tmpfs(dir.resolve("mnt"), "24m")) {
            fullDiskIsRefusedCleanlyAndOutlived(vertx, disk);
        }
    }

    @Test
    void atSqlitesPageCapWithoutRoot(Vertx vertx) throws Exception {
        try (FullDisk disk = FullDisk.pageCap(dir, 2000)) {
            fullDiskIsRefusedCleanlyAndOutlived(vertx, disk);
        }
    }

    private void fullDiskIsRefusedCleanlyAndOutlived(Vertx vertx, FullDisk disk) throws Exception {
        var config = TestServers.config(disk.dir(), Map.of("pool_size", "4"));
        PairwiseServer.StoreOpener opener = (at, capacity) -> new SqlitePreferenceStore(
                ((StoreLocation.SqliteFile) at).file(), capacity, disk.limits());
        List<String> pairs = new ArrayList<>();
        PairwiseServer server = PairwiseServer.start(config, opener);
        try {
            Client http = new Client(WebClient.create(vertx), server.port(), server.adminToken());
            for (int i = 0; i < 4; i++) {
                pairs.add(http.get("/api/pairs/next").bodyAsJsonObject().getString("pair_id"));
            }
            assertEquals(201, vote(http, pairs).statusCode());
            int steps = awaitSteps(http, 1);
            // Votes waiting for the trainer when the disk fills: its steps then cannot be saved or marked.
            assertEquals(200, http.admin(HttpMethod.POST, "/api/trainer/pause").statusCode());
            for (int i = 0; i < 3; i++) {
                assertEquals(201, vote(http, pairs).statusCode());
            }

            disk.fill();
            assertEquals(200, http.admin(HttpMethod.POST, "/api/trainer/resume").statusCode());
            if (disk.capsFiles()) {
                // Its checkpoint cannot be written: it waits (it used to end in state "failed").
                JsonObject stalled = TestServers.await(() -> trainer(http), t -> t.getString("state")
                        .equals("stalled"), Duration.ofSeconds(60), "the trainer to wait for its storage");
                // The checkpoint's own write, or (finalising the waiting votes first) the store's.
                String why = stalled.getString("error");
                assertTrue(why.contains("No space left") || why.contains("disk holding the preference store is full"),
                        stalled.encode());
            }
            voteUntilRefused(http, pairs);
            disk.free();
            awaitVotesStored(http, pairs);
            awaitSteps(http, steps + 4);
        } finally {
            server.close();
        }

        disk.fill();
        server = PairwiseServer.start(config, opener);
        try {
            Client http = new Client(WebClient.create(vertx), server.port(), server.adminToken());
            var stats = http.get("/api/stats");
            assertEquals(200, stats.statusCode(), stats.bodyAsString());
            assertEquals(acknowledged.size(), stats.bodyAsJsonObject().getLong("votes"), "reads on a full disk");
            voteUntilRefused(http, pairs);
            int steps = trainer(http).getInteger("steps");
            disk.free();
            awaitVotesStored(http, pairs);
            awaitSteps(http, steps + 1);
            assertNotEquals("failed", trainer(http).getString("state"));
        } finally {
            server.close();
        }

        Map<Long, String> stored = new HashMap<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + disk.db());
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT id, pair_id || '/' || annotator FROM preferences")) {
            while (rs.next()) {
                stored.put(rs.getLong(1), rs.getString(2));
            }
        }
        System.out.printf("full disk, server (%s): %d votes acknowledged, %d refused with 507, %d stored%n",
                disk.dir(), acknowledged.size(), refused.size(), stored.size());
        assertEquals(acknowledged, stored.keySet(), "stored = acknowledged");
        refused.forEach(k -> assertFalse(stored.containsValue(k), "refused but stored: " + k));
    }

    /** One vote by a new annotator; a 201 is remembered as acknowledged, a 507 as refused. */
    private HttpResponse<Buffer> vote(Client http, List<String> pairs) {
        String pair = pairs.get(next % pairs.size());
        String annotator = "u" + next++;
        HttpResponse<Buffer> r = http.vote(pair, next % 2 == 0 ? "a" : "b", annotator);
        if (r.statusCode() == 201) {
            acknowledged.add(r.bodyAsJsonObject().getLong("id"));
        } else if (r.statusCode() == 507) {
            refused.add(pair + "/" + annotator);
        }
        return r;
    }

    private void voteUntilRefused(Client http, List<String> pairs) {
        for (int i = 0; i < 5000; i++) {
            HttpResponse<Buffer> r = vote(http, pairs);
            if (r.statusCode() == 201) {
                continue;
            }
            assertEquals(507, r.statusCode(), r.bodyAsString());
            JsonObject body = r.bodyAsJsonObject();
            assertTrue(body.getString("error").startsWith("the disk holding the preference store is full"),
                    body.encode());
            assertFalse(body.encode().contains("SQLITE") || body.encode().contains("Exception"), body.encode());
            assertEquals("5", r.getHeader("Retry-After"));
            return;
        }
        throw new AssertionError("the full disk never refused a vote");
    }

    private void awaitVotesStored(Client http, List<String> pairs) {
        TestServers.await(() -> vote(http, pairs).statusCode(), s -> s == 201, Duration.ofSeconds(20),
                "a vote stored after the disk was freed");
        for (int i = 0; i < 20; i++) {
            HttpResponse<Buffer> r = vote(http, pairs);
            assertEquals(201, r.statusCode(), r.bodyAsString());
        }
    }

    private static int awaitSteps(Client http, int atLeast) {
        return TestServers.await(() -> trainer(http), t -> t.getInteger("steps") >= atLeast
                        && !t.getString("state").equals("stalled"), Duration.ofSeconds(60),
                "the trainer at step " + atLeast).getInteger("steps");
    }

    private static JsonObject trainer(Client http) {
        // As the admin: the trainer's error text is not for annotators (Visibility).
        return http.asAdmin().get("/api/training/metrics?since=1000000").bodyAsJsonObject().getJsonObject("trainer");
    }
}
