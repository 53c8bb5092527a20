package org.pairwise.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.server.PairwiseServer;
import org.pairwise.server.TestServers;
import org.pairwise.server.TestServers.Client;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.PreferenceStore.PairRecord;
import org.pairwise.server.store.PreferenceStore.VoteRequest;
import org.pairwise.server.store.SqlitePreferenceStore;

/**
 * GET /api/leaderboard over real HTTP, on battle votes written into the data dir's SQLite file before the server
 * starts: a hand-checked case (v1 beats v0 300 times in 400: 400·log10(3) = 190.85 points, the prior's shrinkage
 * well under a point at this count), Newton and Hunter's minorize-maximize giving the same ratings on random battles
 * of four versions, bootstrap intervals around the estimate, the win-rate matrix's counts, and the pair an annotator
 * is handed for a battle naming no opponent version.
 */
@ExtendWith(VertxExtension.class)
class LeaderboardApiTest {
    static final String ADMIN = "leaderboard-admin-token-0123456789";
    static final String ANN = "ann-leaderboard-token-1", VIC = "vic-leaderboard-token-1";

    @TempDir
    static Path dir;
    static PairwiseServer server;
    static Client http;
    /** Votes per (a, b, choice) drawn for the random part, to check the matrix's counts independently. */
    static final Map<String, Integer> drawn = new HashMap<>();
    static final int[][] MATCHES = {{2, 0}, {3, 0}, {3, 2}};

    @BeforeAll
    static void start(Vertx vertx) throws Exception {
        Files.createDirectories(dir);
        try (SqlitePreferenceStore store = new SqlitePreferenceStore(dir.resolve(PairwiseServer.DB_FILE), 10_000)) {
            long prompt = store.addPrompt("test", "once upon a time", null).join();
            int n = 0;
            // The hand-checked part: v1 against v0 only, 300 wins of 400 for v1 (sides alternate).
            for (int i = 0; i < 400; i++) {
                boolean v1IsA = i % 2 == 0;
                boolean v1Wins = i < 300;
                Choice c = v1IsA == v1Wins ? Choice.A : Choice.B;
                battle(store, prompt, "h" + i, v1IsA ? 1 : 0, v1IsA ? 0 : 1, c, 1, "voter" + (n++ % 7));
            }
            // The random part: v2, v3 against v0 and each other, every kind of answer.
            SplittableRandom r = new SplittableRandom(12);
            int[][] matches = MATCHES;
            for (int i = 0; i < 300; i++) {
                int[] m = matches[r.nextInt(matches.length)];
                Choice c = Choice.values()[r.nextInt(10) < 7 ? r.nextInt(2) : 2 + r.nextInt(2)];
                battle(store, prompt, "r" + i, m[0], m[1], c, 1, "voter" + (n++ % 7));
                drawn.merge(m[0] + "/" + m[1] + "/" + c, 1, Integer::sum);
            }
            // One battle someone was handed already, with a slot left: the annotator's GET /api/pairs/next gets it.
            battle(store, prompt, "open", 3, 0, null, 2, null);
            assertTrue(store.lease("open", "zed", 600_000).join());
        }
        server = PairwiseServer.start(TestServers.config(dir, Map.of("annotation", "token", "admin_token", ADMIN,
                "annotator_tokens", "ann:" + ANN, "viewer_tokens", "vic:" + VIC, "eval_fraction", "0")));
        http = new Client(WebClient.create(vertx), server.port(), ADMIN);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static void battle(SqlitePreferenceStore store, long prompt, String id, int aVersion, int bVersion,
                               Choice choice, int k, String who) {
        store.addBattlePair(new PairRecord(id, prompt, "once upon a time", new int[] {1, 2}, "side a " + id,
                new int[] {3}, new float[] {-1f}, "eos", "side b " + id, new int[] {4}, new float[] {-1f}, "eos",
                true, Math.max(aVersion, bVersion), "{}", 0), k, aVersion, bVersion).join();
        if (choice != null) {
            store.recordVote(new VoteRequest(id, choice, who, null, null)).join();
        }
    }

    static JsonObject get(String query, String token) {
        var resp = http.send(HttpMethod.GET, "/api/leaderboard" + query, null,
                MultiMap.caseInsensitiveMultiMap().add("Authorization", "Bearer " + token));
        assertEquals(200, resp.statusCode(), resp.bodyAsString());
        return resp.bodyAsJsonObject();
    }

    static JsonObject standing(JsonObject board, int version) {
        for (Object o : board.getJsonArray("standings")) {
            JsonObject s = (JsonObject) o;
            if (s.getInteger("policy_version") == version) {
                return s;
            }
        }
        throw new AssertionError("no v" + version + " in " + board.encode());
    }

    static JsonObject cell(JsonObject board, int row, int column) {
        JsonArray versions = board.getJsonObject("win_rates").getJsonArray("versions");
        return board.getJsonObject("win_rates").getJsonArray("cells").getJsonArray(versions.getList().indexOf(row))
                .getJsonObject(versions.getList().indexOf(column));
    }

    @Test
    void aViewerReadsTheHandCheckedCaseWithDefaultBootstrapIntervals() {
        JsonObject board = get("", VIC);
        assertEquals(200, board.getInteger("rounds"));
        assertEquals("tie", board.getString("both_bad"));
        assertEquals(700, board.getInteger("counted_votes"));
        JsonObject v0 = standing(board, 0);
        assertEquals(1000, v0.getDouble("rating"), 1e-9, "the reference is the anchor");
        assertEquals(1000, v0.getDouble("low"), 1e-9);
        assertEquals(1000, v0.getDouble("high"), 1e-9);
        JsonObject c = cell(board, 1, 0);
        assertEquals(400, c.getInteger("battles"));
        assertEquals(300, c.getInteger("wins"));
        assertEquals(100, c.getInteger("losses"));
        assertEquals(0.75, c.getDouble("win_rate"), 1e-12);
        assertEquals(100, cell(board, 0, 1).getInteger("wins"));
        // v1 met only v0: P(v1 beats v0) = 3/4 is odds 3, 400·log10(3) = 190.85 points; the prior (one virtual tie
        // of each player with an average one) shrinks it by about a point against 400 real battles.
        JsonObject v1 = standing(board, 1);
        assertEquals(400 * Math.log10(3), v1.getDouble("rating") - 1000, 3, v1.encode());
        assertTrue(v1.getDouble("low") < v1.getDouble("rating") && v1.getDouble("rating") < v1.getDouble("high"),
                v1.encode());
        // The win rate against the reference, per version, over decisive votes with its Wilson interval.
        JsonObject line = board.getJsonArray("vs_reference").getJsonObject(0);
        assertEquals(1, line.getInteger("policy_version"));
        assertEquals(0.75, line.getDouble("win_rate"), 1e-12);
        assertTrue(line.getDouble("low") > 0.70 && line.getDouble("high") < 0.80, line.encode());
    }

    @Test
    void newtonAndMinorizeMaximizeAgreeOverHttp() {
        for (String bothBad : new String[] {"tie", "exclude"}) {
            JsonObject newton = get("?rounds=0&method=newton&both_bad=" + bothBad, VIC);
            JsonObject mm = get("?rounds=0&method=mm&both_bad=" + bothBad, VIC);
            for (int v = 0; v <= 3; v++) {
                assertEquals(standing(newton, v).getDouble("rating"), standing(mm, v).getDouble("rating"), 1e-6,
                        "v" + v + " with both-bad as " + bothBad);
            }
            int bothBadVotes = drawn.entrySet().stream().filter(e -> e.getKey().endsWith("BOTH_BAD"))
                    .mapToInt(Map.Entry::getValue).sum();
            assertEquals(bothBad.equals("tie") ? 0 : bothBadVotes, newton.getInteger("excluded_votes"));
        }
    }

    @Test
    void theMatrixCountsEveryDrawnVote() {
        JsonObject board = get("?rounds=0", VIC);
        for (int[] m : MATCHES) {
            JsonObject c = cell(board, m[0], m[1]);
            assertEquals(count(m, Choice.A), c.getInteger("wins"), "v" + m[0] + " against v" + m[1]);
            assertEquals(count(m, Choice.B), c.getInteger("losses"));
            assertEquals(count(m, Choice.TIE), c.getInteger("ties"));
            assertEquals(count(m, Choice.BOTH_BAD), c.getInteger("both_bad"));
        }
    }

    private static int count(int[] m, Choice c) {
        return drawn.getOrDefault(m[0] + "/" + m[1] + "/" + c, 0);
    }

    static io.vertx.ext.web.client.HttpResponse<io.vertx.core.buffer.Buffer> admin(String path, String body) {
        return http.send(HttpMethod.POST, path, body, MultiMap.caseInsensitiveMultiMap()
                .add("Authorization", "Bearer " + ADMIN).add("Content-Type", "application/json"));
    }

    @Test
    void theAdminPinsAKeptVersionByNameAndTheLeaderboardShowsIt() {
        assertEquals(200, admin("/api/policy/pin", "{\"version\": 0, \"name\": \"base\"}").statusCode());
        var notKept = admin("/api/policy/pin", "{\"version\": 9, \"name\": \"later\"}");
        assertEquals(400, notKept.statusCode());
        assertTrue(notKept.bodyAsJsonObject().getString("error").contains("not kept"), notKept.bodyAsString());
        assertEquals(400, admin("/api/policy/pin", "{\"version\": 0, \"name\": \"<b>\"}").statusCode());
        var policy = http.send(HttpMethod.GET, "/api/policy", null,
                MultiMap.caseInsensitiveMultiMap().add("Authorization", "Bearer " + VIC)).bodyAsJsonObject();
        assertEquals(0, policy.getJsonObject("pins").getInteger("base"), policy.encode());
        assertEquals(new JsonArray().add(0), policy.getJsonArray("kept"));
        assertEquals("on", policy.getJsonObject("guard").getString("publishing"));
        // The leaderboard caches for 2 s: a fresh parameter set reads the pins now.
        assertEquals(new JsonArray().add("base"), standing(get("?rounds=1", VIC), 0).getJsonArray("pinned"));
        assertEquals(200, admin("/api/policy/unpin", "{\"name\": \"base\"}").statusCode());
        assertEquals(404, admin("/api/policy/unpin", "{\"name\": \"base\"}").statusCode());
    }

    @Test
    void badParametersGet400() {
        for (String q : new String[] {"?rounds=-1", "?rounds=5000", "?method=elo", "?both_bad=loss"}) {
            var resp = http.send(HttpMethod.GET, "/api/leaderboard" + q, null,
                    MultiMap.caseInsensitiveMultiMap().add("Authorization", "Bearer " + VIC));
            assertEquals(400, resp.statusCode(), q);
            assertTrue(resp.bodyAsJsonObject().containsKey("error"));
        }
    }

    @Test
    void theAnnotatorIsHandedTheBattleWithoutItsVersions() {
        var resp = http.send(HttpMethod.GET, "/api/pairs/next", null,
                MultiMap.caseInsensitiveMultiMap().add("Authorization", "Bearer " + ANN));
        assertEquals(200, resp.statusCode(), resp.bodyAsString());
        JsonObject pair = resp.bodyAsJsonObject();
        assertEquals("open", pair.getString("pair_id"));
        assertEquals(Set.of("pair_id", "prompt", "a", "b", "policy_version"), pair.fieldNames(), pair.encode());
        assertEquals(3, pair.getInteger("policy_version"), "the served version, as on any pair");
        assertFalse(pair.encode().contains("a_policy_version"));
        assertNull(pair.getValue("kind"));
    }
}
