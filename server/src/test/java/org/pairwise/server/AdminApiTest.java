package org.pairwise.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.server.TestServers.Client;

/** Admin routes: the token check, pause/resume, stats, TRL export, the adapter zip, prompt upload, Prometheus. */
@ExtendWith(VertxExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AdminApiTest {
    static final List<String[]> ADMIN_ROUTES = List.of(new String[] {"POST", "/api/prompts"},
            new String[] {"GET", "/api/export"}, new String[] {"GET", "/api/adapter"},
            new String[] {"POST", "/api/trainer/pause"}, new String[] {"POST", "/api/trainer/resume"},
            new String[] {"GET", "/metrics"});

    @TempDir
    static Path dir;

    static PairwiseServer server;
    static Client http;

    @BeforeAll
    static void start(Vertx vertx) throws Exception {
        // Every wrong token below counts against this one client: the failed-token limit is raised out of the way.
        server = PairwiseServer.start(TestServers.config(dir, Map.of("auth_failures_per_minute", "1000")));
        http = new Client(WebClient.create(vertx), server.port(), server.adminToken());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    @Order(1)
    void adminRoutesNeedTheAdminToken() {
        for (String[] route : ADMIN_ROUTES) {
            HttpMethod m = HttpMethod.valueOf(route[0]);
            for (String auth : new String[] {null, "Bearer wrong-token-123", "Basic " + server.adminToken(),
                    "Bearer " + server.adminToken() + "x"}) {
                MultiMap h = MultiMap.caseInsensitiveMultiMap();
                if (auth != null) {
                    h.add("Authorization", auth);
                }
                var r = http.send(m, route[1], null, h);
                assertEquals(401, r.statusCode(), route[1] + " with " + auth + ": " + r.bodyAsString());
                assertTrue(r.bodyAsJsonObject().getString("error").contains("token"), r.bodyAsString());
                assertEquals("Bearer", r.getHeader("WWW-Authenticate"));
            }
        }
        // The token file is private to its owner.
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(assertDoesNotThrow(() ->
                java.nio.file.Files.getPosixFilePermissions(dir.resolve("admin_token")))));
    }

    @Test
    @Order(2)
    void votesWhilePausedAreCountedButNotTrainedUntilResumed() {
        var paused = http.admin(HttpMethod.POST, "/api/trainer/pause");
        assertEquals(200, paused.statusCode(), paused.bodyAsString());
        assertTrue(paused.bodyAsJsonObject().getBoolean("paused"));

        var noAdapter = http.admin(HttpMethod.GET, "/api/adapter");
        assertEquals(404, noAdapter.statusCode(), "version 0 is the base model: " + noAdapter.bodyAsString());

        List<Long> ab = new ArrayList<>();
        String[][] votes = {{"a", "ann"}, {"b", "ann"}, {"tie", "ben"}, {"both_bad", "ben"}, {"a", "ben"}};
        for (String[] v : votes) {
            String pair = http.get("/api/pairs/next").bodyAsJsonObject().getString("pair_id");
            var r = http.vote(pair, v[0], v[1]);
            assertEquals(201, r.statusCode(), r.bodyAsString());
            if (v[0].length() == 1) {
                ab.add(r.bodyAsJsonObject().getLong("id"));
            }
        }
        JsonObject stats = http.asAdmin().get("/api/stats").bodyAsJsonObject();
        assertEquals(5, stats.getLong("votes"));
        assertEquals(new JsonObject().put("a", 2).put("b", 1).put("tie", 1).put("both_bad", 1),
                stats.getJsonObject("votes_by_choice"));
        assertEquals(new JsonObject().put(http.name("ann"), 2).put(http.name("ben"), 3),
                stats.getJsonObject("votes_by_annotator"));
        assertEquals(3, stats.getLong("untrained_ab_votes"));
        assertEquals(5, stats.getInteger("votes_per_minute"));
        assertEquals(5, stats.getJsonObject("votes_by_policy_version").getLong("0"));
        assertEquals(2, stats.getJsonObject("pool").getInteger("size"));
        assertEquals("paused", TestServers.await(() -> http.get("/api/stats").bodyAsJsonObject()
                .getJsonObject("trainer").getString("state"), "paused"::equals, Duration.ofSeconds(10), "pause"));
        assertEquals(0, stats.getJsonObject("trainer").getInteger("steps"));

        assertEquals(200, http.admin(HttpMethod.POST, "/api/trainer/resume").statusCode());
        JsonArray steps = TestServers.await(() -> http.get("/api/training/metrics").bodyAsJsonObject()
                .getJsonArray("steps"), a -> a.size() == 3, Duration.ofSeconds(60), "three steps");
        List<Long> trained = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) {
            trained.add(steps.getJsonObject(i).getLong("first_vote_id"));
        }
        assertEquals(ab, trained, "exactly the A/B votes, in order; ties and both-bad are not trained on");
        assertEquals(1, http.get("/api/training/metrics?since=2").bodyAsJsonObject().getJsonArray("steps").size());
        TestServers.await(() -> http.get("/api/stats").bodyAsJsonObject().getLong("untrained_ab_votes"),
                n -> n == 0, Duration.ofSeconds(10), "all A/B votes trained");
    }

    @Test
    @Order(3)
    void exportIsTrlJsonlInBothFormats() {
        var std = http.admin(HttpMethod.GET, "/api/export?format=standard");
        assertEquals(200, std.statusCode(), std.bodyAsString());
        List<String> lines = std.bodyAsString().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(3, lines.size(), std.bodyAsString());
        for (String line : lines) {
            JsonObject o = new JsonObject(line);
            assertTrue(o.getValue("prompt") instanceof String && o.getValue("chosen") instanceof String
                    && o.getValue("rejected") instanceof String, line);
            assertFalse(o.getString("prompt").isEmpty());
        }
        var conv = http.admin(HttpMethod.GET, "/api/export?format=conversational");
        assertEquals(200, conv.statusCode());
        List<String> clines = conv.bodyAsString().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(3, clines.size());
        for (String line : clines) {
            JsonObject o = new JsonObject(line);
            for (String key : List.of("prompt", "chosen", "rejected")) {
                JsonObject msg = o.getJsonArray(key).getJsonObject(0);
                assertTrue(msg.containsKey("role") && msg.getValue("content") instanceof String, line);
            }
            assertEquals("assistant", o.getJsonArray("chosen").getJsonObject(0).getString("role"));
        }
    }

    @Test
    @Order(4)
    void theAdapterIsAPeftZipOfTheCurrentPolicy() throws Exception {
        var r = http.admin(HttpMethod.GET, "/api/adapter");
        assertEquals(200, r.statusCode(), r.bodyAsString());
        assertEquals("application/zip", r.getHeader("Content-Type"));
        List<String> names = new ArrayList<>();
        JsonObject config = null;
        try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(r.body().getBytes()))) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
                names.add(e.getName());
                byte[] content = zip.readAllBytes();
                if (e.getName().equals("adapter_config.json")) {
                    config = new JsonObject(new String(content, java.nio.charset.StandardCharsets.UTF_8));
                } else {
                    assertTrue(content.length > 1000, "adapter weights are " + content.length + " bytes");
                }
            }
        }
        assertEquals(List.of("adapter_config.json", "adapter_model.safetensors"), names);
        assertEquals("LORA", config.getString("peft_type"));
    }

    @Test
    @Order(5)
    void uploadedPromptsAreValidatedWhollyThenUsed() {
        int before = http.get("/api/stats").bodyAsJsonObject().getJsonObject("pool").getInteger("prompts");
        var bad = http.send(HttpMethod.POST, "/api/prompts", "A fine prompt\n{\"prompt\": 3}\n",
                MultiMap.caseInsensitiveMultiMap().add("Authorization", "Bearer " + server.adminToken()));
        assertEquals(400, bad.statusCode(), bad.bodyAsString());
        assertTrue(bad.bodyAsJsonObject().getString("error").contains("upload:2"), bad.bodyAsString());

        var ok = http.send(HttpMethod.POST, "/api/prompts", "The moon was bright.\n{\"prompt\": \"A frog sat\"}\n",
                MultiMap.caseInsensitiveMultiMap().add("Authorization", "Bearer " + server.adminToken()));
        assertEquals(201, ok.statusCode(), ok.bodyAsString());
        assertEquals(2, ok.bodyAsJsonObject().getInteger("added"));
        assertEquals(before + 2, ok.bodyAsJsonObject().getInteger("prompts"));
    }

    @Test
    @Order(6)
    void prometheusMetricsIncludeOursAndVertxs() {
        var r = http.admin(HttpMethod.GET, "/metrics");
        assertEquals(200, r.statusCode());
        String text = r.bodyAsString();
        assertTrue(text.contains("pairwise_votes_total{choice=\"a\"} 2.0"), text);
        assertTrue(text.contains("pairwise_training_steps_total 3.0"), text);
        assertTrue(text.contains("vertx_http_server_requests_total"), text);
    }

    private static <T> T assertDoesNotThrow(java.util.concurrent.Callable<T> c) {
        try {
            return c.call();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
