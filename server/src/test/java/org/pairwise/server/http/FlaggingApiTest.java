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
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
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
import org.pairwise.server.PairwiseServer;
import org.pairwise.server.TestServers;
import org.pairwise.server.TestServers.Client;

/**
 * Quality control over a real server on loopback with its own SQLite file, in token mode: gold pairs uploaded by the
 * admin and answered through GET /api/pairs/next, the server's own periodic check flagging a careless annotator,
 * his later votes kept from the trainer's queue, the admin's un-flag over HTTP making them trainable, and
 * GET /api/quality's gold accuracy, lease-to-vote medians and skips by reason, and the pair view, against counts
 * made by hand.
 */
@ExtendWith(VertxExtension.class)
class FlaggingApiTest {
    static final String ADMIN = "flagging-api-admin-token-0123456789";
    static final String VIEWER = "vic-flagging-viewer-token";

    static String token(String name) {
        return name + "-flagging-token-1";
    }

    @TempDir
    Path dir;
    Client http;

    static MultiMap bearer(String token) {
        MultiMap h = MultiMap.caseInsensitiveMultiMap().add("Content-Type", "application/json");
        return token == null ? h : h.add("Authorization", "Bearer " + token);
    }

    io.vertx.ext.web.client.HttpResponse<io.vertx.core.buffer.Buffer> send(String token, HttpMethod m, String path,
                                                                            JsonObject body) {
        return http.send(m, path, body == null ? null : body.encode(), bearer(token));
    }

    JsonObject ok(String token, HttpMethod m, String path, JsonObject body) {
        var r = send(token, m, path, body);
        assertTrue(r.statusCode() / 100 == 2, m + " " + path + ": " + r.statusCode() + " " + r.bodyAsString());
        return r.bodyAsJsonObject();
    }

    String next(String who) {
        var r = TestServers.await(() -> send(token(who), HttpMethod.GET, "/api/pairs/next", null),
                x -> x.statusCode() == 200, Duration.ofSeconds(120), "a pair for " + who);
        return r.bodyAsJsonObject().getString("pair_id");
    }

    long vote(String who, String pair, String choice, String comment) {
        return ok(token(who), HttpMethod.POST, "/api/preferences", new JsonObject().put("pair_id", pair)
                .put("choice", choice).put("comment", comment)).getLong("id");
    }

    JsonObject annotator(JsonObject quality, String name) {
        for (Object o : quality.getJsonArray("annotators")) {
            if (((JsonObject) o).getString("annotator").equals(name)) {
                return (JsonObject) o;
            }
        }
        throw new AssertionError("no " + name + " in " + quality.encode());
    }

    static Set<Long> itemised(Path db) throws Exception {
        Set<Long> out = new HashSet<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
             ResultSet rs = c.createStatement().executeQuery("SELECT vote_id FROM training_items"
                     + " WHERE vote_id IS NOT NULL")) {
            while (rs.next()) {
                out.add(rs.getLong(1));
            }
        }
        return out;
    }

    @Test
    void aCarelessAnnotatorIsFlaggedUnflaggedByTheAdminAndTheFiguresReadBack(Vertx vertx) throws Exception {
        Path db = dir.resolve(PairwiseServer.DB_FILE);
        try (PairwiseServer server = PairwiseServer.start(TestServers.config(dir, Map.ofEntries(
                Map.entry("annotation", "token"), Map.entry("admin_token", ADMIN),
                Map.entry("annotator_tokens", "ann:" + token("ann") + ",bob:" + token("bob") + ",cat:" + token("cat")),
                Map.entry("viewer_tokens", "vic:" + VIEWER), Map.entry("gold_rate", "1.0"),
                Map.entry("votes_per_pair", "3"), Map.entry("undo_window", "2"),
                Map.entry("flag_min_gold_accuracy", "0.9"), Map.entry("flag_min_votes", "3"))))) {
            http = new Client(WebClient.create(vertx), server.port(), ADMIN);
            ok(ADMIN, HttpMethod.POST, "/api/guidelines", new JsonObject().put("format", "text")
                    .put("body", "Prefer the answer that is true."));
            var up = http.send(HttpMethod.POST, "/api/gold", """
                    {"prompt": "Is water wet?", "chosen": "Yes.", "rejected": "Purple."}
                    {"prompt": "2+2?", "chosen": "4", "rejected": "5"}
                    {"prompt": "Capital of France?", "chosen": "Paris", "rejected": "Rome"}
                    """, MultiMap.caseInsensitiveMultiMap().add("Authorization", "Bearer " + ADMIN)
                    .add("Content-Type", "text/plain"));
            assertEquals(201, up.statusCode(), up.bodyAsString());
            Map<String, String> right = new HashMap<>();
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
                 ResultSet rs = c.createStatement().executeQuery("SELECT pair_id, gold_choice FROM pairs"
                         + " WHERE kind = 'gold'")) {
                while (rs.next()) {
                    right.put(rs.getString(1), rs.getString(2));
                }
            }
            assertEquals(3, right.size());

            // gold_rate 1: each person is handed the three gold pairs first. ann gets two of three right (the
            // third she calls a tie: a miss), bob none.
            List<String> annGold = new ArrayList<>(), bobGold = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                annGold.add(next("ann"));
                bobGold.add(next("bob"));
            }
            assertEquals(right.keySet(), new HashSet<>(annGold));
            assertEquals(right.keySet(), new HashSet<>(bobGold));
            String g1 = annGold.getFirst();
            // On the first, ann first says tie and withdraws it inside the undo window, then answers.
            long withdrawn = vote("ann", g1, "tie", "not sure");
            ok(token("ann"), HttpMethod.POST, "/api/preferences/withdraw", new JsonObject().put("vote_id", withdrawn));
            long annOnG1 = vote("ann", g1, right.get(g1), "clear cut");
            vote("ann", annGold.get(1), right.get(annGold.get(1)), null);
            vote("ann", annGold.get(2), "tie", null);
            long bobOnG1 = 0;
            for (String g : bobGold) {
                long id = vote("bob", g, right.get(g).equals("a") ? "b" : "a", null);
                bobOnG1 = g.equals(g1) ? id : bobOnG1;
            }

            // The server's own check (every 5 s) flags bob: 0 of 3, 95% interval 0-0.56, under 0.9.
            JsonObject q = TestServers.await(() -> ok(VIEWER, HttpMethod.GET, "/api/quality", null),
                    x -> annotator(x, "bob").getValue("flag") != null, Duration.ofSeconds(30), "bob's flag");
            JsonObject bobFlag = annotator(q, "bob").getJsonObject("flag");
            assertEquals(new JsonObject().put("flagged", true)
                    .put("reason", "gold accuracy 0.00 (95% CI 0.00-0.56) below 0.90 after 3 gold votes")
                    .put("changed_at", bobFlag.getLong("changed_at")).put("changed_by", "auto").put("automatic", true),
                    bobFlag);
            assertNull(annotator(q, "ann").getValue("flag"), "2 of 3: upper end 0.94, not below 0.9");
            JsonObject annGoldJson = annotator(q, "ann").getJsonObject("gold");
            assertEquals(3, annGoldJson.getInteger("answered"));
            assertEquals(2, annGoldJson.getInteger("correct"));
            // 2/3: the mirror of 1/3's 0.0615-0.7923 (Wilson's interval is symmetric in p -> 1 - p): 0.2077-0.9385.
            assertEquals(2 / 3.0, annGoldJson.getJsonObject("rate").getDouble("value"), 1e-12);
            assertEquals(0.2077, annGoldJson.getJsonObject("rate").getDouble("low"), 5e-5);
            assertEquals(0.9385, annGoldJson.getJsonObject("rate").getDouble("high"), 5e-5);
            assertEquals(new JsonObject().put("min_gold_accuracy", 0.9).putNull("min_agreement").put("min_votes", 3)
                    .put("exclude_flagged", true).put("compares", "wilson_upper_bound"), q.getJsonObject("flagging"));

            // Flagged, bob's votes wait; ann's later vote is itemised once final, bob's before it are not.
            String p1 = next("bob");
            long bobOnP1 = vote("bob", p1, "a", null);
            long annOnP1 = vote("ann", next("ann"), "a", null);
            TestServers.await(() -> uncheckedItemised(db), s -> s.contains(annOnP1), Duration.ofSeconds(60),
                    "ann's vote in the trainer's queue");
            assertFalse(itemised(db).contains(bobOnP1), "a flagged annotator's vote is not trained on");

            // The admin un-flags him: his held vote becomes trainable, and the evidence he was flagged on does
            // not flag him again (the check runs every 5 s: wait past two).
            ok(ADMIN, HttpMethod.POST, "/api/quality/flags", new JsonObject().put("annotator", "bob")
                    .put("flagged", false).put("reason", "spoke with bob"));
            TestServers.await(() -> uncheckedItemised(db), s -> s.contains(bobOnP1), Duration.ofSeconds(60),
                    "bob's vote in the trainer's queue after the un-flag");
            Thread.sleep(2 * 5_000 + 1_000);
            JsonObject after = annotator(ok(VIEWER, HttpMethod.GET, "/api/quality", null), "bob").getJsonObject("flag");
            assertEquals(List.of(false, "spoke with bob", "admin", false), List.of(after.getBoolean("flagged"),
                    after.getString("reason"), after.getString("changed_by"), after.getBoolean("automatic")));

            // cat is handed the three gold pairs, then a policy pair; skips them for each reason (harmful the
            // policy pair), and votes once.
            List<String> catPairs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                catPairs.add(next("cat"));
            }
            assertTrue(catPairs.subList(0, 3).contains(g1), catPairs.toString());
            String[] reasons = {"cant_judge", "cant_judge", "prompt_unclear", "harmful"};
            for (int i = 0; i < 4; i++) {
                String p = catPairs.get(i);
                ok(token("cat"), HttpMethod.POST, "/api/skips", new JsonObject().put("pair_id", p)
                        .put("reason", reasons[i]).put("comment", p.equals(g1) ? "no idea" : null));
            }
            vote("cat", next("cat"), "b", null);
            ok(token("cat"), HttpMethod.POST, "/api/pair-flags", new JsonObject().put("pair_id", g1)
                    .put("comment", "typo in the prompt"));

            // Lease-to-vote: each live vote's lease and vote times rewritten behind the server's back to known
            // gaps. ann 2.5, 4, 9, 30 s: median 6.5; bob 1, 3, 7, 20 s: median 5; cat 12 s.
            Map<String, long[]> gaps = Map.of("ann", new long[] {4_000, 9_000, 30_000, 2_500},
                    "bob", new long[] {1_000, 3_000, 7_000, 20_000}, "cat", new long[] {12_000});
            long t0 = 1_700_000_000_000L;
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db)) {
                for (var e : gaps.entrySet()) {
                    List<long[]> votes = new ArrayList<>();  // id, pair row index
                    List<String> pairsOf = new ArrayList<>();
                    try (PreparedStatement ps = c.prepareStatement("SELECT id, pair_id FROM preferences"
                            + " WHERE annotator = ? AND retracted_at IS NULL ORDER BY id")) {
                        ps.setString(1, e.getKey());
                        try (ResultSet rs = ps.executeQuery()) {
                            while (rs.next()) {
                                votes.add(new long[] {rs.getLong(1)});
                                pairsOf.add(rs.getString(2));
                            }
                        }
                    }
                    assertEquals(e.getValue().length, votes.size(), e.getKey() + "'s live votes");
                    for (int i = 0; i < votes.size(); i++) {
                        long leased = t0 + i * 600_000L;
                        try (PreparedStatement a = c.prepareStatement("UPDATE assignments SET leased_at = ?"
                                + " WHERE pair_id = ? AND annotator = ?");
                             PreparedStatement v = c.prepareStatement("UPDATE preferences SET created_at = ?"
                                     + " WHERE id = ?")) {
                            a.setLong(1, leased);
                            a.setString(2, pairsOf.get(i));
                            a.setString(3, e.getKey());
                            assertEquals(1, a.executeUpdate(), "a lease behind each vote");
                            v.setLong(1, leased + e.getValue()[i]);
                            v.setLong(2, votes.get(i)[0]);
                            assertEquals(1, v.executeUpdate());
                        }
                    }
                }
            }
            JsonObject figures = ok(VIEWER, HttpMethod.GET, "/api/quality", null);
            Map<String, Double> medians = Map.of("ann", 6.5, "bob", 5.0, "cat", 12.0);
            for (var e : medians.entrySet()) {
                JsonObject a = annotator(figures, e.getKey());
                assertEquals(e.getValue(), a.getDouble("median_seconds_lease_to_vote"), 1e-9, e.getKey());
                assertEquals(gaps.get(e.getKey()).length, a.getInteger("lease_to_vote_votes"));
            }
            assertEquals(new JsonObject().put("cant_judge", 2).put("harmful", 1).put("prompt_unclear", 1),
                    annotator(figures, "cat").getJsonObject("skips"));
            assertEquals(new JsonObject().put("cant_judge", 0).put("harmful", 0).put("prompt_unclear", 0),
                    annotator(figures, "ann").getJsonObject("skips"));

            // The pair view of g1: every vote (the withdrawn one too), the skip with its reason, the comment.
            JsonObject view = ok(VIEWER, HttpMethod.GET, "/api/quality/pair?pair_id=" + g1, null);
            assertEquals("gold", view.getString("kind"));
            assertEquals(right.get(g1), view.getString("gold_choice"));
            JsonArray votes = view.getJsonArray("vote_list");
            assertEquals(List.of(withdrawn, annOnG1, bobOnG1), votes.stream().map(v -> ((JsonObject) v).getLong("id"))
                    .toList());
            JsonObject w = votes.getJsonObject(0);
            assertEquals(List.of("ann", "tie", "not sure", true, 1), List.of(w.getString("annotator"),
                    w.getString("choice"), w.getString("comment"), w.getBoolean("withdrawn"),
                    w.getInteger("guideline_version")));
            JsonObject live = votes.getJsonObject(1);
            assertEquals(List.of("ann", right.get(g1), "clear cut", false), List.of(live.getString("annotator"),
                    live.getString("choice"), live.getString("comment"), live.getBoolean("withdrawn")));
            assertEquals(2, view.getInteger("votes"));
            assertEquals(1, view.getInteger("withdrawn"));
            String catReasonOnG1 = reasons[catPairs.indexOf(g1)];
            JsonArray skips = view.getJsonArray("skip_list");
            assertEquals(1, skips.size());
            assertEquals(List.of("cat", catReasonOnG1, "no idea"), List.of(skips.getJsonObject(0).getString("annotator"),
                    skips.getJsonObject(0).getString("reason"), skips.getJsonObject(0).getString("comment")));
            assertEquals("typo in the prompt", view.getJsonArray("comment_list").getJsonObject(0)
                    .getString("comment"));
            assertEquals(new JsonArray(), view.getJsonArray("training_items"), "gold is never trained on");

            // p1: each vote its own training item (aggregation each), bob's since the un-flag.
            JsonObject v1 = ok(VIEWER, HttpMethod.GET, "/api/quality/pair?pair_id=" + p1, null);
            // (cat may have been handed p1 too: k is 3.) Every live vote on it is an item, bob's among them.
            Set<Long> liveOnP1 = new HashSet<>(v1.getJsonArray("vote_list").stream().map(v -> (JsonObject) v)
                    .filter(v -> !v.getBoolean("withdrawn")).map(v -> v.getLong("id")).toList());
            assertTrue(liveOnP1.contains(bobOnP1), v1.encode());
            assertEquals(liveOnP1, new HashSet<>(v1.getJsonArray("training_items").stream()
                    .map(t -> ((JsonObject) t).getLong("vote_id")).toList()));

            JsonArray recent = ok(VIEWER, HttpMethod.GET, "/api/quality/pairs", null).getJsonArray("pairs");
            JsonObject g1Row = recent.stream().map(o -> (JsonObject) o).filter(o -> o.getString("pair_id").equals(g1))
                    .findFirst().orElseThrow();
            assertEquals(List.of(2, 1, 1, 1), List.of(g1Row.getInteger("votes"), g1Row.getInteger("withdrawn"),
                    g1Row.getInteger("skips"), g1Row.getInteger("comments")));

            // Who may read: viewers and the admin; an annotator is refused, nobody is asked for a token.
            assertEquals(200, send(ADMIN, HttpMethod.GET, "/api/quality/pair?pair_id=" + g1, null).statusCode());
            assertEquals(403, send(token("ann"), HttpMethod.GET, "/api/quality/pair?pair_id=" + g1, null)
                    .statusCode());
            assertEquals(403, send(token("ann"), HttpMethod.GET, "/api/quality/pairs", null).statusCode());
            assertEquals(401, send(null, HttpMethod.GET, "/api/quality/pair?pair_id=" + g1, null).statusCode());
            var missing = send(VIEWER, HttpMethod.GET, "/api/quality/pair?pair_id=no-such-pair", null);
            assertEquals(404, missing.statusCode());
            assertEquals(400, send(VIEWER, HttpMethod.GET, "/api/quality/pair", null).statusCode());
        }
    }

    static Set<Long> uncheckedItemised(Path db) {
        try {
            return itemised(db);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
