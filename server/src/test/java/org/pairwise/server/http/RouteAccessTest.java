package org.pairwise.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.server.PairwiseServer;
import org.pairwise.server.TestServers;
import org.pairwise.server.TestServers.Client;

/**
 * Token mode, route by route: who may call each route (none, a wrong token, an annotator, a viewer, the admin), and
 * what each reads of other people's votes on the routes they share: the latest votes, the per-annotator counts and
 * the event stream. Before the route table, /api/votes/latest, /api/stats and /api/events answered anyone, with
 * every annotator's names, comments and idempotency keys.
 */
@ExtendWith(VertxExtension.class)
class RouteAccessTest {
    static final String ADMIN = "route-access-admin-token-0123456789";
    static final String ANN = "ann-secret-token-1", BEN = "ben-secret-token-1", VIC = "vic-viewer-token-1";

    enum Who { NONE, WRONG, ANNOTATOR, VIEWER, ADMIN }

    /** Method, path, body (JSON unless it says otherwise), and the status each caller gets. */
    record Expect(String method, String path, String body, int none, int wrong, int annotator, int viewer,
                  int admin) {
        int status(Who w) {
            return switch (w) {
                case NONE -> none;
                case WRONG -> wrong;
                case ANNOTATOR -> annotator;
                case VIEWER -> viewer;
                case ADMIN -> admin;
            };
        }
    }

    /**
     * What token mode must answer; bodies are chosen to be rejected by the handler (400) so that "allowed" is told
     * apart from "refused" without running generations. Written out here, not derived from {@link RouteTable}.
     */
    static final List<Expect> TOKEN_MODE = List.of(
            new Expect("GET", "/api/me", null, 401, 401, 200, 200, 200),
            new Expect("GET", "/api/pairs/next", null, 401, 401, 200, 403, 200),
            new Expect("POST", "/api/pairs", "{}", 401, 401, 400, 403, 400),
            new Expect("POST", "/api/pairs/continue", "{}", 401, 401, 400, 403, 400),
            new Expect("POST", "/api/preferences", "{}", 401, 401, 400, 403, 400),
            new Expect("GET", "/api/votes/latest", null, 401, 401, 200, 200, 200),
            new Expect("GET", "/api/stats", null, 401, 401, 200, 200, 200),
            new Expect("GET", "/api/training/metrics", null, 401, 401, 200, 200, 200),
            new Expect("GET", "/api/events", null, 401, 401, 200, 200, 200),
            // Per-annotator quality figures: viewers and the admin; an annotator is known but not allowed.
            new Expect("GET", "/api/quality", null, 401, 401, 403, 200, 200),
            // The pair view (without pair_id: 400, so allowed is told apart from refused).
            new Expect("GET", "/api/quality/pairs", null, 401, 401, 403, 200, 200),
            new Expect("GET", "/api/quality/pair", null, 401, 401, 403, 400, 400),
            new Expect("POST", "/api/prompts", "", 401, 401, 401, 401, 400),
            new Expect("GET", "/api/export", null, 401, 401, 401, 401, 200),
            new Expect("GET", "/api/adapter", null, 401, 401, 401, 401, 404),
            new Expect("POST", "/api/trainer/pause", null, 401, 401, 401, 401, 200),
            new Expect("POST", "/api/trainer/resume", null, 401, 401, 401, 401, 200),
            new Expect("GET", "/metrics", null, 401, 401, 401, 401, 200),
            new Expect("POST", "/api/preferences/change", "{}", 401, 401, 400, 403, 400),
            new Expect("POST", "/api/preferences/withdraw", "{}", 401, 401, 400, 403, 400),
            new Expect("POST", "/api/skips", "{}", 401, 401, 400, 403, 400),
            new Expect("POST", "/api/pair-flags", "{}", 401, 401, 400, 403, 400),
            new Expect("POST", "/api/gold", "", 401, 401, 401, 401, 400),
            new Expect("GET", "/api/quality/flags", null, 401, 401, 401, 401, 200),
            new Expect("POST", "/api/quality/flags", "{}", 401, 401, 401, 401, 400),
            // Accounts are off in token mode: their routes say so (409) to whoever may call them.
            new Expect("GET", "/api/annotators", null, 401, 401, 401, 401, 409),
            new Expect("POST", "/api/annotators", "{}", 401, 401, 401, 401, 409),
            new Expect("POST", "/api/annotators/status", "{}", 401, 401, 401, 401, 409),
            new Expect("POST", "/api/annotators/token", "{}", 401, 401, 401, 401, 409),
            new Expect("POST", "/api/invites", "{}", 401, 401, 401, 401, 409),
            new Expect("POST", "/api/session", "{}", 409, 409, 409, 409, 409),
            new Expect("POST", "/api/session/end", null, 401, 401, 200, 200, 200),
            new Expect("GET", "/api/guidelines", null, 401, 401, 200, 200, 200),
            new Expect("POST", "/api/guidelines", "{}", 401, 401, 401, 401, 400),
            new Expect("GET", "/api/progress", null, 401, 401, 200, 200, 200),
            // Policy versions: the leaderboard and the kept versions for viewers and the admin; pins and rollback
            // for the admin (an empty body is refused after the admin check; release with nothing held is a no-op).
            new Expect("GET", "/api/leaderboard", null, 401, 401, 403, 200, 200),
            new Expect("GET", "/api/policy", null, 401, 401, 403, 200, 200),
            new Expect("POST", "/api/policy/pin", "{}", 401, 401, 401, 401, 400),
            new Expect("POST", "/api/policy/unpin", "{}", 401, 401, 401, 401, 400),
            new Expect("POST", "/api/policy/rollback", "{}", 401, 401, 401, 401, 400),
            new Expect("POST", "/api/policy/release", null, 401, 401, 401, 401, 200),
            new Expect("GET", "/", null, 200, 200, 200, 200, 200),
            new Expect("GET", "/dashboard.html", null, 200, 200, 200, 200, 200));

    @TempDir
    static Path dir;
    static PairwiseServer server;
    static Client http;

    @BeforeAll
    static void start(Vertx vertx) throws Exception {
        server = PairwiseServer.start(TestServers.config(dir, Map.of("annotation", "token", "admin_token", ADMIN,
                "annotator_tokens", "ann:" + ANN + ",ben:" + BEN, "viewer_tokens", "vic:" + VIC,
                "auth_failures_per_minute", "1000")));
        http = new Client(WebClient.create(vertx), server.port(), ADMIN);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static MultiMap headers(Who who) {
        MultiMap h = MultiMap.caseInsensitiveMultiMap();
        String token = switch (who) {
            case NONE -> null;
            case WRONG -> "not-a-token-of-this-server";
            case ANNOTATOR -> ANN;
            case VIEWER -> VIC;
            case ADMIN -> ADMIN;
        };
        if (token != null) {
            h.add("Authorization", "Bearer " + token);
        }
        return h;
    }

    @Test
    void everyRouteOfTheTableAnswersEachCallerAsTheTableSays(Vertx vertx) {
        // Every row of the server's table is covered here (the bench route is off), so a new route is a new line.
        List<String> covered = TOKEN_MODE.stream().map(e -> e.method + " " + e.path).toList();
        for (RouteTable.Route r : RouteTable.ROUTES) {
            if (!r.path().equals("/api/bench/constant")) {
                assertTrue(covered.contains(r.method().name() + " " + r.path()), "untested route " + r);
            }
        }
        List<String> wrong = new ArrayList<>();
        for (Expect e : TOKEN_MODE) {
            for (Who who : Who.values()) {
                MultiMap h = headers(who);
                if (e.body != null) {
                    h.add("Content-Type", e.path.equals("/api/prompts") || e.path.equals("/api/gold") ? "text/plain"
                            : "application/json");
                }
                int got = e.path.equals("/api/events") ? streamStatus(vertx, h)
                        : http.send(HttpMethod.valueOf(e.method), e.path, e.body, h).statusCode();
                if (got != e.status(who)) {
                    wrong.add(e.method + " " + e.path + " as " + who + ": " + got + ", expected " + e.status(who));
                }
            }
        }
        assertEquals(List.of(), wrong);
    }

    /** The status of GET /api/events, without waiting for the stream's end (it has none). */
    static int streamStatus(Vertx vertx, MultiMap h) {
        HttpClient c = vertx.createHttpClient();
        try {
            return c.request(new RequestOptions().setPort(server.port()).setHost("127.0.0.1").setURI("/api/events")
                    .setHeaders(h)).compose(r -> r.send()).map(resp -> resp.statusCode()).await();
        } finally {
            c.close();
        }
    }

    @Test
    void annotatorsReadTheirOwnVotesAndViewersAndTheAdminEveryonesWithoutOthersKeys(Vertx vertx) throws Exception {
        Map<Who, StringBuffer> streams = new LinkedHashMap<>();
        HttpClient sse = vertx.createHttpClient();
        AtomicInteger open = new AtomicInteger();
        for (Who who : List.of(Who.ANNOTATOR, Who.VIEWER, Who.ADMIN)) {
            StringBuffer text = new StringBuffer();
            streams.put(who, text);
            sse.request(new RequestOptions().setPort(server.port()).setHost("127.0.0.1").setURI("/api/events")
                    .setHeaders(headers(who))).compose(r -> r.send()).onSuccess(resp -> {
                        resp.handler(b -> text.append(b.toString()));
                        open.incrementAndGet();
                    });
        }
        TestServers.await(open::get, n -> n == 3, Duration.ofSeconds(10), "three event streams");

        JsonObject annVote = vote(ANN, "a", "ann's private note", "ann-key-1");
        JsonObject benVote = vote(BEN, "b", "ben's private note", "ben-key-1");
        assertEquals("ann", annVote.getString("annotator"));
        assertEquals("ben", benVote.getString("annotator"));

        // Latest votes: an annotator's own only; a viewer everyone's without keys; the admin everything.
        JsonArray asAnn = latest(Who.ANNOTATOR);
        assertEquals(1, asAnn.size(), asAnn.encode());
        assertEquals("ann's private note", asAnn.getJsonObject(0).getString("comment"));
        assertEquals("ann-key-1", asAnn.getJsonObject(0).getString("idempotency_key"));
        JsonArray asViewer = latest(Who.VIEWER);
        assertEquals(2, asViewer.size(), asViewer.encode());
        for (int i = 0; i < 2; i++) {
            assertNull(asViewer.getJsonObject(i).getValue("idempotency_key"), asViewer.encode());
            assertNotNull(asViewer.getJsonObject(i).getString("comment"));
        }
        assertTrue(latest(Who.ADMIN).encode().contains("ben-key-1"));

        // Counts per annotator: an annotator's own; a viewer and the admin everyone's. Totals for all.
        JsonObject annStats = stats(Who.ANNOTATOR);
        assertEquals(new JsonObject().put("ann", 1), annStats.getJsonObject("votes_by_annotator"));
        assertEquals(2, annStats.getLong("votes"));
        assertEquals(new JsonObject().put("ann", 1).put("ben", 1), stats(Who.VIEWER)
                .getJsonObject("votes_by_annotator"));

        // The stream: ann sees that ben voted, not who, what he wrote or his key; the viewer sees who and what,
        // not the key; the admin everything. Nobody's stream carries a path on the server's disk.
        TestServers.await(() -> streams.get(Who.ANNOTATOR).toString(), s -> count(s, "event: vote") == 2,
                Duration.ofSeconds(10), "two votes on ann's stream");
        TestServers.await(() -> streams.get(Who.VIEWER).toString() + streams.get(Who.ADMIN),
                s -> count(s, "event: vote") == 4, Duration.ofSeconds(10), "both votes on the other streams");
        String annStream = streams.get(Who.ANNOTATOR).toString();
        assertTrue(annStream.contains("ann's private note") && annStream.contains("ann-key-1"), annStream);
        assertFalse(annStream.contains("ben's private note") || annStream.contains("ben-key-1")
                || annStream.contains("\"ben\""), annStream);
        assertTrue(annStream.contains("\"id\":" + benVote.getLong("id")), "ben's vote is counted: " + annStream);
        String viewerStream = streams.get(Who.VIEWER).toString();
        assertTrue(viewerStream.contains("ben's private note") && viewerStream.contains("\"ben\""), viewerStream);
        assertFalse(viewerStream.contains("ben-key-1") || viewerStream.contains("ann-key-1"), viewerStream);
        assertTrue(streams.get(Who.ADMIN).toString().contains("ben-key-1"));
        // ann's A vote is a full batch: a step and a new policy version follow.
        TestServers.await(() -> streams.get(Who.ADMIN).toString(), s -> s.contains("event: policy"),
                Duration.ofSeconds(60), "a policy event");
        for (StringBuffer s : streams.values()) {
            assertFalse(s.toString().contains("adapter_dir"), s.toString());
        }
        sse.close();
    }

    private static JsonObject vote(String token, String choice, String comment, String key) {
        MultiMap h = MultiMap.caseInsensitiveMultiMap().add("Authorization", "Bearer " + token)
                .add("Content-Type", "application/json");
        String pair = http.send(HttpMethod.GET, "/api/pairs/next", null, h).bodyAsJsonObject().getString("pair_id");
        var r = http.send(HttpMethod.POST, "/api/preferences", new JsonObject().put("pair_id", pair)
                .put("choice", choice).put("comment", comment).put("idempotency_key", key).encode(), h);
        assertEquals(201, r.statusCode(), r.bodyAsString());
        return r.bodyAsJsonObject();
    }

    private static JsonArray latest(Who who) {
        var r = http.send(HttpMethod.GET, "/api/votes/latest", null, headers(who));
        assertEquals(200, r.statusCode(), r.bodyAsString());
        return r.bodyAsJsonObject().getJsonArray("votes");
    }

    private static JsonObject stats(Who who) {
        var r = http.send(HttpMethod.GET, "/api/stats", null, headers(who));
        assertEquals(200, r.statusCode(), r.bodyAsString());
        return r.bodyAsJsonObject();
    }

    private static int count(String s, String part) {
        int n = 0;
        for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }
}
