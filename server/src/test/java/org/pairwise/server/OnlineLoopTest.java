package org.pairwise.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.server.TestServers.Client;

/** The whole loop against a real server: a pair, a vote, stored, trained, and generations from the new policy. */
@ExtendWith(VertxExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OnlineLoopTest {
    @TempDir
    static Path dir;

    static PairwiseServer server;
    static Client http;

    @BeforeAll
    static void start(Vertx vertx) throws Exception {
        server = PairwiseServer.start(TestServers.config(dir, Map.of()));
        http = new Client(WebClient.create(vertx), server.port(), server.adminToken());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    @Order(1)
    void aVoteIsStoredTrainedOnAndTheNextPairsComeFromTheNewPolicy(Vertx vertx) {
        StringBuffer events = new StringBuffer();
        java.util.concurrent.atomic.AtomicBoolean subscribed = new java.util.concurrent.atomic.AtomicBoolean();
        HttpClient sse = vertx.createHttpClient();
        // Wait for the response head, not its first chunk: the server registers the subscriber before it answers,
        // and a chunk that races ahead of the client's handler would otherwise leave this waiting for nothing.
        sse.request(new RequestOptions().setPort(server.port()).setHost("127.0.0.1").setURI("/api/events"))
                .compose(r -> r.send()).onSuccess(resp -> {
                    resp.handler(b -> events.append(b.toString()));
                    subscribed.set(true);
                });
        TestServers.await(subscribed::get, Boolean::booleanValue, Duration.ofSeconds(10), "the event stream");

        var next = http.get("/api/pairs/next");
        assertEquals(200, next.statusCode(), next.bodyAsString());
        JsonObject pair = next.bodyAsJsonObject();
        assertEquals(0, pair.getInteger("policy_version"));
        assertFalse(pair.getString("prompt").isBlank());
        assertNotNull(pair.getJsonObject("a").getString("text"));
        assertNotNull(pair.getJsonObject("b").getString("text"));

        var vote = http.vote(pair.getString("pair_id"), "a", "alice");
        assertEquals(201, vote.statusCode(), vote.bodyAsString());
        long voteId = vote.bodyAsJsonObject().getLong("id");

        JsonArray steps = TestServers.await(() -> http.get("/api/training/metrics?since=0").bodyAsJsonObject()
                .getJsonArray("steps"), a -> !a.isEmpty(), Duration.ofSeconds(60), "a training step");
        JsonObject step = steps.getJsonObject(0);
        assertEquals(1, step.getInteger("step"));
        assertEquals(voteId, step.getLong("first_vote_id"));
        assertEquals(voteId, step.getLong("last_vote_id"));
        for (String name : List.of("loss", "rewards/chosen", "rewards/rejected", "rewards/accuracies",
                "rewards/margins", "logps/chosen", "logps/rejected", "off_policy_age")) {
            assertTrue(step.containsKey(name), "step metrics lack " + name + ": " + step);
        }

        // Per-annotator counts and other people's votes are for the admin (or a viewer) to read.
        JsonObject stats = TestServers.await(() -> http.asAdmin().get("/api/stats").bodyAsJsonObject(),
                s -> s.getInteger("policy_version") == 1, Duration.ofSeconds(30), "policy version 1");
        assertEquals(1, stats.getLong("votes"));
        assertEquals(1, stats.getJsonObject("votes_by_choice").getLong("a"));
        assertEquals(1, stats.getJsonObject("votes_by_annotator").getLong(http.name("alice")));
        assertEquals(1, stats.getJsonObject("trainer").getInteger("steps"));
        assertEquals(voteId, stats.getJsonObject("trainer").getLong("last_vote_id"));

        // The pool replaces pairs of the old version; within a few draws they come from version 1.
        JsonObject fresh = TestServers.await(() -> http.get("/api/pairs/next").bodyAsJsonObject(),
                p -> p.getInteger("policy_version") == 1, Duration.ofSeconds(60), "a pair from policy version 1");
        assertNotNull(fresh.getString("pair_id"));

        // The vote is in the store, marked as trained at the version the trainer had when it took it (0).
        JsonObject latest = http.asAdmin().get("/api/votes/latest?limit=5").bodyAsJsonObject().getJsonArray("votes")
                .getJsonObject(0);
        assertEquals(voteId, latest.getLong("id"));
        assertEquals(0, latest.getInteger("trained_at_version"));
        assertEquals(pair.getJsonObject("a").getString("text"),
                latest.getJsonObject("pair").getJsonObject("a").getString("text"));

        TestServers.await(events::toString, s -> s.contains("event: vote") && s.contains("event: step")
                && s.contains("event: policy"), Duration.ofSeconds(10), "vote, step and policy events");
        sse.close();
    }

    @Test
    @Order(2)
    void aPersonsOwnPromptIsGeneratedAndStreamedSideBySide() {
        var plain = http.post("/api/pairs", new JsonObject().put("prompt", "The dog ran").encode());
        assertEquals(201, plain.statusCode(), plain.bodyAsString());
        assertEquals("The dog ran", plain.bodyAsJsonObject().getString("prompt"));

        var streamed = http.send(HttpMethod.POST, "/api/pairs", new JsonObject().put("prompt", "Lily saw a cat")
                .encode(), MultiMap.caseInsensitiveMultiMap().add("Accept", "text/event-stream")
                .add("Content-Type", "application/json"));
        assertEquals(200, streamed.statusCode(), streamed.bodyAsString());
        assertTrue(streamed.getHeader("Content-Type").startsWith("text/event-stream"));
        StringBuilder a = new StringBuilder(), b = new StringBuilder();
        JsonObject done = null;
        List<String> names = new ArrayList<>();
        for (String frame : streamed.bodyAsString().split("\n\n")) {
            String event = frame.lines().filter(l -> l.startsWith("event: ")).findFirst().orElseThrow().substring(7);
            JsonObject data = new JsonObject(frame.lines().filter(l -> l.startsWith("data: ")).findFirst()
                    .orElseThrow().substring(6));
            names.add(event);
            switch (event) {
                case "a" -> a.append(data.getString("text"));
                case "b" -> b.append(data.getString("text"));
                case "pair" -> done = data;
                default -> throw new AssertionError("unexpected event " + event + ": " + data);
            }
        }
        assertNotNull(done, "no final pair event: " + names);
        assertEquals("pair", names.getLast());
        assertNotNull(done.getString("pair_id"));
        // Each side's deltas add up to that side's final text: the streams went to the right columns.
        assertEquals(done.getJsonObject("a").getString("text"), a.toString());
        assertEquals(done.getJsonObject("b").getString("text"), b.toString());

        // The on-demand pair is stored: a vote on it is accepted.
        assertEquals(201, http.vote(done.getString("pair_id"), "b", "bob").statusCode());
    }
}
