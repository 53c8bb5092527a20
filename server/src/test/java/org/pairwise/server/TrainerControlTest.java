package org.pairwise.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.server.TestServers.Client;

/**
 * POST /api/trainer/pause and /resume answer with the trainer's state after the change, not before it: the answer
 * and the next GET /api/stats agree. Batches of two votes and a long batch window keep one vote waiting, so the
 * trainer has a state ("waiting") to come back to.
 */
@ExtendWith(VertxExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TrainerControlTest {
    @TempDir
    static Path dir;

    static PairwiseServer server;
    static Client http;

    @BeforeAll
    static void start(Vertx vertx) throws Exception {
        server = PairwiseServer.start(TestServers.config(dir, Map.of("batch_size", "2", "batch_window_ms",
                "600000")));
        http = new Client(WebClient.create(vertx), server.port(), server.adminToken());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    @Order(1)
    void fromIdlePauseAnswersPausedAndResumeAnswersIdle() {
        awaitState("idle");
        JsonObject paused = control("pause");
        assertEquals("paused", paused.getString("state"), paused.encode());
        assertTrue(paused.getBoolean("paused"));
        assertEquals("paused", trainerStats().getString("state"), "the stats say what the answer said");
        assertEquals("paused", control("pause").getString("state"), "pausing twice: still paused");

        JsonObject resumed = control("resume");
        assertEquals("idle", resumed.getString("state"), resumed.encode());
        assertFalse(resumed.getBoolean("paused"));
        assertEquals("idle", trainerStats().getString("state"));
    }

    @Test
    @Order(2)
    void withAVoteWaitingForItsBatchResumeAnswersWaiting() {
        String pair = http.get("/api/pairs/next").bodyAsJsonObject().getString("pair_id");
        assertEquals(201, http.vote(pair, "a", null).statusCode());
        awaitState("waiting");

        JsonObject paused = control("pause");
        assertEquals("paused", paused.getString("state"), paused.encode());
        JsonObject resumed = control("resume");
        assertEquals("waiting", resumed.getString("state"), resumed.encode());
        assertFalse(resumed.getBoolean("paused"));
        assertEquals(0, resumed.getInteger("steps"), "one vote of a batch of two: no step yet");
    }

    private static JsonObject control(String command) {
        var r = http.admin(HttpMethod.POST, "/api/trainer/" + command);
        assertEquals(200, r.statusCode(), r.bodyAsString());
        return r.bodyAsJsonObject();
    }

    private static JsonObject trainerStats() {
        return http.get("/api/stats").bodyAsJsonObject().getJsonObject("trainer");
    }

    private static void awaitState(String state) {
        TestServers.await(() -> trainerStats().getString("state"), state::equals, Duration.ofSeconds(30), state);
    }
}
