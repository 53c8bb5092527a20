package org.pairwise.server;

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
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.server.TestServers.Client;

/**
 * A preference campaign over real HTTP on loopback, with a real SQLite file and trainer: leases behind
 * GET /api/pairs/next under concurrency, undo, skips with reasons, pair flags, the raw export, gold pairs, annotator
 * flags, and one training label per pair under majority, trained once across a restart.
 */
@ExtendWith(VertxExtension.class)
class CampaignApiTest {
    @TempDir
    Path dir;

    private static long count(Path db, String sql) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String pairFor(Client who) {
        var r = TestServers.await(() -> who.get("/api/pairs/next"), x -> x.statusCode() != 503,
                Duration.ofSeconds(120), "a pair");
        assertEquals(200, r.statusCode(), r.bodyAsString());
        return r.bodyAsJsonObject().getString("pair_id");
    }

    @Test
    void peopleAskingAtOnceGetEachPairAtMostKTimesAndNeverTheSamePairTwice(Vertx vertx) throws Exception {
        try (PairwiseServer server = PairwiseServer.start(TestServers.config(dir, Map.of("votes_per_pair", "2",
                "pool_size", "4")))) {
            Client http = new Client(WebClient.create(vertx), server.port(), server.adminToken());
            int people = 8, each = 2;
            Map<String, List<String>> got = new ConcurrentHashMap<>();
            ExecutorService pool = Executors.newFixedThreadPool(people);
            List<Future<?>> done = new ArrayList<>();
            for (int p = 0; p < people; p++) {
                Client person = http.as("person-" + p);
                String name = "person-" + p;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < each; i++) {
                        got.computeIfAbsent(name, n -> new ArrayList<>()).add(pairFor(person));
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
            pool.shutdown();
            Map<String, Integer> perPair = new HashMap<>();
            got.forEach((who, pairs) -> {
                assertEquals(each, new HashSet<>(pairs).size(), who + " got a pair twice: " + pairs);
                pairs.forEach(p -> perPair.merge(p, 1, Integer::sum));
            });
            perPair.forEach((p, n) -> assertTrue(n <= 2, p + " handed to " + n + " people"));
            Path db = dir.resolve(PairwiseServer.DB_FILE);
            assertEquals(people * each, count(db, "SELECT COUNT(*) FROM assignments WHERE state = 'leased'"));
            assertEquals(0, count(db, "SELECT COUNT(*) FROM pairs WHERE assigned > votes_wanted"));
        }
    }

    @Test
    void undoSkipsFlagsAndTheRawExportOverHttp(Vertx vertx) throws Exception {
        try (PairwiseServer server = PairwiseServer.start(TestServers.config(dir, Map.of("undo_window", "2",
                "votes_per_pair", "2")))) {
            Client http = new Client(WebClient.create(vertx), server.port(), server.adminToken());
            Client ann = http.as("ann"), ben = http.as("ben");
            String pair = pairFor(ann);
            var voted = http.vote(pair, "a", "ann");
            assertEquals(201, voted.statusCode(), voted.bodyAsString());
            JsonObject v = voted.bodyAsJsonObject();
            long id = v.getLong("id");
            assertEquals(v.getLong("created_at") + 2000, v.getLong("undo_until"));

            String byId = new JsonObject().put("vote_id", id).encode();
            var changed = ann.post("/api/preferences/change", new JsonObject().put("vote_id", id)
                    .put("choice", "b").encode());
            assertEquals(200, changed.statusCode(), changed.bodyAsString());
            assertEquals("b", changed.bodyAsJsonObject().getString("choice"));
            assertEquals(404, ben.post("/api/preferences/withdraw", byId).statusCode(), "not ben's vote");
            assertEquals(400, ann.post("/api/preferences/withdraw", "{\"vote_id\": \"x\"}").statusCode());
            var withdrawn = ann.post("/api/preferences/withdraw", byId);
            assertEquals(200, withdrawn.statusCode(), withdrawn.bodyAsString());
            assertTrue(withdrawn.bodyAsJsonObject().getBoolean("withdrawn"));
            assertEquals(409, ann.post("/api/preferences/withdraw", byId).statusCode());
            var again = http.vote(pair, "tie", "ann");
            assertEquals(201, again.statusCode(), "a withdrawn vote can be replaced: " + again.bodyAsString());
            Thread.sleep(2100);
            var late = ann.post("/api/preferences/change", new JsonObject().put("vote_id",
                    again.bodyAsJsonObject().getLong("id")).put("choice", "a").encode());
            assertEquals(409, late.statusCode(), late.bodyAsString());
            assertTrue(late.bodyAsJsonObject().getString("error").contains("undo window"));

            String other = pairFor(ben);
            String skip = new JsonObject().put("pair_id", other).put("reason", "harmful").put("comment", "gore")
                    .encode();
            assertEquals(201, ben.post("/api/skips", skip).statusCode());
            assertTrue(ben.post("/api/skips", skip).bodyAsJsonObject().getBoolean("duplicate"));
            var bad = ben.post("/api/skips", new JsonObject().put("pair_id", other).put("reason", "bored").encode());
            assertEquals(400, bad.statusCode());
            assertTrue(bad.bodyAsJsonObject().getString("error").contains("cant_judge"));
            var flag = ben.post("/api/pair-flags", new JsonObject().put("pair_id", pair)
                    .put("comment", "the prompt is cut off").encode());
            assertEquals(201, flag.statusCode(), flag.bodyAsString());
            assertEquals(404, ben.post("/api/pair-flags", new JsonObject().put("pair_id", "nope")
                    .put("comment", "x").encode()).statusCode());

            var raw = http.admin(HttpMethod.GET, "/api/export?format=raw");
            assertEquals(200, raw.statusCode());
            List<JsonObject> lines = new ArrayList<>();
            for (String line : raw.bodyAsString().split("\n")) {
                lines.add(new JsonObject(line));
            }
            assertEquals(List.of("vote", "vote", "skip", "pair_flag"), lines.stream().map(l -> l.getString("type"))
                    .toList());
            JsonObject first = lines.get(0);
            assertEquals(http.name("ann"), first.getString("annotator"));
            assertEquals("b", first.getString("choice"), "the change is what the row says");
            assertTrue(first.getLong("retracted_at") >= first.getLong("changed_at"));
            assertEquals("policy", first.getString("kind"));
            assertTrue(first.containsKey("guideline_version") && first.containsKey("policy_version"));
            assertNull(lines.get(1).getValue("retracted_at"));
            assertEquals("harmful", lines.get(2).getString("reason"));
            assertEquals(http.name("ben"), lines.get(2).getString("annotator"));
            assertEquals("the prompt is cut off", lines.get(3).getString("comment"));
            Path db = dir.resolve(PairwiseServer.DB_FILE);
            assertEquals(1, count(db, "SELECT flagged_harmful FROM pairs WHERE pair_id = '" + other + "'"));

            JsonObject counted = http.get("/api/stats").bodyAsJsonObject().getJsonObject("campaign");
            assertEquals(1, counted.getJsonObject("skips_by_reason").getLong("harmful"));
            assertEquals(0, counted.getJsonObject("skips_by_reason").getLong("cant_judge"));
            assertEquals(1, counted.getLong("pairs_flagged_harmful"));
            assertEquals(1, counted.getLong("pair_flags"));
            assertEquals(1, counted.getLong("withdrawn_votes"));

            // The TRL export has the live vote only, and it is a tie: nothing.
            var trl = http.admin(HttpMethod.GET, "/api/export");
            assertEquals(200, trl.statusCode());
            assertTrue(trl.body() == null || trl.body().length() == 0, trl.bodyAsString());

            var set = http.asAdmin().post("/api/quality/flags", new JsonObject().put("annotator", http.name("ann"))
                    .put("flagged", true).put("reason", "by hand").encode());
            assertEquals(200, set.statusCode(), set.bodyAsString());
            JsonArray flags = http.admin(HttpMethod.GET, "/api/quality/flags").bodyAsJsonObject()
                    .getJsonArray("flags");
            assertEquals(1, flags.size());
            assertTrue(flags.getJsonObject(0).getBoolean("flagged"));
            assertEquals("admin", flags.getJsonObject(0).getString("changed_by"));
            assertEquals(400, http.asAdmin().post("/api/quality/flags", new JsonObject().put("annotator", "x")
                    .put("flagged", "yes").encode()).statusCode());
        }
    }

    @Test
    void goldPairsReadLikeAnyPairAndThreeDisagreeingVotesTrainOnceUnderMajority(Vertx vertx) throws Exception {
        Map<String, String> settings = Map.of("votes_per_pair", "3", "aggregation", "majority", "undo_window", "1",
                "gold_rate", "1.0");
        Path db = dir.resolve(PairwiseServer.DB_FILE);
        int steps;
        try (PairwiseServer server = PairwiseServer.start(TestServers.config(dir, settings))) {
            Client http = new Client(WebClient.create(vertx), server.port(), server.adminToken());
            String gold = """
                    {"prompt": "Is water wet?", "chosen": "Yes.", "rejected": "Purple."}
                    {"prompt": [{"role": "user", "content": "2+2?"}], "chosen": [{"role": "assistant", "content": "4"}], "rejected": [{"role": "assistant", "content": "5"}]}
                    """;
            var up = http.send(HttpMethod.POST, "/api/gold", gold, MultiMap.caseInsensitiveMultiMap()
                    .add("Authorization", "Bearer " + server.adminToken()).add("Content-Type", "text/plain"));
            assertEquals(201, up.statusCode(), up.bodyAsString());
            Set<String> goldIds = new HashSet<>(up.bodyAsJsonObject().getJsonArray("pair_ids").getList());
            assertEquals(2, goldIds.size());
            var badGold = http.send(HttpMethod.POST, "/api/gold", "{\"prompt\": \"x\", \"chosen\": 3}",
                    MultiMap.caseInsensitiveMultiMap().add("Authorization", "Bearer " + server.adminToken())
                            .add("Content-Type", "text/plain"));
            assertEquals(400, badGold.statusCode());
            assertTrue(badGold.bodyAsJsonObject().getString("error").contains("upload:1"));

            // gold_rate 1: each person sees the gold pairs first, then policy pairs; the JSON has the same keys.
            Client ann = http.as("ann");
            JsonObject g1 = ann.get("/api/pairs/next").bodyAsJsonObject();
            JsonObject g2 = ann.get("/api/pairs/next").bodyAsJsonObject();
            assertEquals(goldIds, Set.of(g1.getString("pair_id"), g2.getString("pair_id")));
            JsonObject textGold = g1.containsKey("messages") ? g2 : g1;
            JsonObject policy = TestServers.await(() -> ann.get("/api/pairs/next"), r -> r.statusCode() == 200,
                    Duration.ofSeconds(120), "a policy pair").bodyAsJsonObject();
            assertFalse(goldIds.contains(policy.getString("pair_id")));
            assertEquals(policy.fieldNames(), textGold.fieldNames());
            assertEquals(policy.getJsonObject("a").fieldNames(), textGold.getJsonObject("a").fieldNames());
            for (JsonObject g : List.of(g1, g2)) {
                assertEquals(201, http.vote(g.getString("pair_id"), "a", "ann").statusCode());
            }

            // Ben and Cy get ann's policy pair next: it is short of its three votes. 2 of 3 prefer A.
            String p = policy.getString("pair_id");
            for (String who : List.of("ben", "cy")) {
                Client c = http.as(who);
                c.get("/api/pairs/next");
                c.get("/api/pairs/next");  // the two gold pairs first
                assertEquals(p, c.get("/api/pairs/next").bodyAsJsonObject().getString("pair_id"), who);
            }
            assertEquals(201, http.vote(p, "a", "ann").statusCode());
            assertEquals(201, http.vote(p, "b", "ben").statusCode());
            assertEquals(201, http.vote(p, "a", "cy").statusCode());

            JsonArray lines = TestServers.await(() -> http.get("/api/training/metrics?since=0").bodyAsJsonObject()
                    .getJsonArray("steps"), a -> !a.isEmpty(), Duration.ofSeconds(60), "a training step");
            JsonObject step = lines.getJsonObject(0);
            assertEquals(1.0, step.getDouble("votes"), "one label for the pair, not three terms: " + step);
            assertEquals(step.getLong("first_item_id"), step.getLong("last_item_id"));
            Thread.sleep(1500);  // long enough for a second step, were there anything else to train
            steps = http.get("/api/training/metrics?since=0").bodyAsJsonObject().getJsonArray("steps").size();
            assertEquals(1, steps);
            assertEquals(1, count(db, "SELECT COUNT(*) FROM training_items"));
            assertEquals(1, count(db, "SELECT COUNT(*) FROM training_items WHERE vote_id IS NULL AND chosen = 'a'"
                    + " AND trained_at_version IS NOT NULL AND pair_id = '" + p + "'"));
            assertEquals(0, count(db, "SELECT COUNT(*) FROM training_items t JOIN pairs p ON p.pair_id = t.pair_id"
                    + " WHERE p.kind = 'gold'"));
            assertEquals(3, count(db, "SELECT COUNT(*) FROM preferences WHERE pair_id = '" + p + "'"
                    + " AND trained_at_version IS NOT NULL"));

            // The TRL export under majority: the one label by default, the three votes on request, no gold either way.
            String aText = policy.getJsonObject("a").getString("text");
            String bText = policy.getJsonObject("b").getString("text");
            List<JsonObject> label = jsonl(http.admin(HttpMethod.GET, "/api/export").bodyAsString());
            assertEquals(1, label.size(), label.toString());
            assertEquals(aText, label.getFirst().getString("chosen"));
            assertEquals(bText, label.getFirst().getString("rejected"));
            assertEquals(label, jsonl(http.admin(HttpMethod.GET, "/api/export?labels=aggregated").bodyAsString()));
            List<JsonObject> votes = jsonl(http.admin(HttpMethod.GET, "/api/export?labels=votes").bodyAsString());
            assertEquals(List.of(aText, bText, aText), votes.stream().map(v -> v.getString("chosen")).toList());
            var bad = http.admin(HttpMethod.GET, "/api/export?labels=some");
            assertEquals(400, bad.statusCode());
            assertTrue(bad.bodyAsJsonObject().getString("error").contains("votes or aggregated"), bad.bodyAsString());
        }
        try (PairwiseServer again = PairwiseServer.start(TestServers.config(dir, settings))) {
            Client http = new Client(WebClient.create(vertx), again.port(), again.adminToken());
            Thread.sleep(2500);
            assertEquals(steps, http.get("/api/training/metrics?since=0").bodyAsJsonObject().getJsonArray("steps")
                    .size(), "nothing is trained again after a restart");
            assertEquals(1, count(db, "SELECT COUNT(*) FROM training_items"));
        }
    }

    private static List<JsonObject> jsonl(String body) {
        return body == null ? List.of() : body.lines().filter(l -> !l.isBlank()).map(JsonObject::new).toList();
    }
}
