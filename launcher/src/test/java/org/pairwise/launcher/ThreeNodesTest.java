package org.pairwise.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.model.SharedModels;
import org.pairwise.server.store.StoreLocation.PostgresDatabase;
import org.pairwise.server.store.pg.SharedPostgres;

/**
 * Three `pairwise serve --cluster` processes on loopback against one real PostgreSQL: the load test votes through
 * all three and its audit passes; the policy version rises on all three; the trainer node killed with SIGKILL under
 * load is replaced within the bound, and the new trainer's step log covers every training item exactly once (none
 * trained twice, none skipped); a second node killed with SIGKILL under load leaves every vote it acknowledged in the
 * database.
 */
class ThreeNodesTest {
    static final String ADMIN = "three-nodes-admin-token-0123456789abcdef01234567";
    /** A new trainer within this: the lock is free at once, the election tries every second, resuming is quick. */
    static final Duration TAKEOVER_BOUND = Duration.ofSeconds(20);
    static final Duration WAIT = Duration.ofSeconds(90);
    static PostgresDatabase db;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    @BeforeAll
    static void database() throws Exception {
        db = SharedPostgres.freshDatabase("campaign");
    }

    record Node(String name, ServeProcess process, String url) {}

    Node node(String name, int clusterPort, String clusterName) throws Exception {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("model", SharedModels.find("stories260K/stories260K.gguf").map(Path::toString).orElse("demo"));
        s.put("data_dir", dir.resolve(name).toString());
        s.put("port", "0");
        s.put("store", SharedPostgres.url(db));
        s.put("cluster", "true");
        s.put("cluster_port", Integer.toString(clusterPort));
        s.put("cluster_name", clusterName);
        s.put("admin_token", ADMIN);
        s.put("max_new_tokens", "8");
        s.put("pool_size", "2");
        s.put("batch_size", "4");
        s.put("publish_every", "1");
        s.put("batch_window_ms", "200");
        s.put("undo_window", "0");
        s.put("generation_threads", "1");
        s.put("training_threads", "1");
        ServeProcess p = ServeProcess.start(s);
        return new Node(name, p, "http://127.0.0.1:" + p.awaitPort());
    }

    static JsonObject stats(String url) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/api/stats"))
                .header("Authorization", "Bearer " + ADMIN).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return new JsonObject(r.body());
    }

    static JsonObject awaitStats(String url, Predicate<JsonObject> done, Duration timeout, String what)
            throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        JsonObject last = null;
        while (System.nanoTime() < end) {
            try {
                last = stats(url);
                if (done.test(last)) {
                    return last;
                }
            } catch (java.io.IOException e) {
                // not up, or just killed
            }
            Thread.sleep(100);
        }
        throw new AssertionError("timed out waiting for " + what + "; last stats of " + url + ": " + last);
    }

    /** `pairwise loadtest` in this JVM; its printed table and audit lines. */
    static String loadtest(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        assertEquals(0, code, out + "\n" + err);
        return out.toString();
    }

    @Test
    void votesThroughThreeNodesTrainOneTrainerAndSurviveKilledNodes() throws Exception {
        int port = 20_000 + ThreadLocalRandom.current().nextInt(20_000);
        String name = "three-" + Long.toHexString(ThreadLocalRandom.current().nextLong());
        List<Node> nodes = new ArrayList<>();
        try {
            for (String n : List.of("n1", "n2", "n3")) {
                nodes.add(node(n, port, name));
            }
            for (Node n : nodes) {
                awaitStats(n.url(), s -> s.getJsonObject("cluster").getJsonArray("nodes").size() == 3
                        && s.getJsonObject("cluster").getString("trainer_node") != null, WAIT,
                        n.name() + " to see three nodes and a trainer");
            }
            String all = String.join(",", nodes.stream().map(Node::url).toList());
            String out = loadtest("loadtest", "--url", all, "--admin-token", ADMIN, "--annotators", "6", "--votes",
                    "60");
            assertTrue(out.contains("audit: PASS"), out);
            for (Node n : nodes) {
                awaitStats(n.url(), s -> s.getInteger("policy_version") > 0 && s.getLong("untrained_ab_votes") == 0,
                        WAIT, n.name() + " to serve a trained version");
            }

            // SIGKILL the trainer while two others keep voting through the other two.
            JsonObject view = stats(nodes.getFirst().url()).getJsonObject("cluster");
            String trainerId = view.getString("trainer_node");
            Node trainer = nodeWithId(nodes, view, trainerId);
            List<Node> others = nodes.stream().filter(n -> n != trainer).toList();
            CompletableFuture<String> load = CompletableFuture.supplyAsync(() -> loadtest("loadtest", "--url",
                    others.get(0).url() + "," + others.get(1).url(), "--admin-token", ADMIN, "--annotators", "4",
                    "--duration", "12s", "--think-time", "50ms"));
            Thread.sleep(3_000);
            trainer.process().kill();
            long killedAt = System.nanoTime();
            JsonObject after = awaitStats(others.get(0).url(), s -> {
                String t = s.getJsonObject("cluster").getString("trainer_node");
                return t != null && !t.equals(trainerId);
            }, TAKEOVER_BOUND, "a new trainer after the trainer's SIGKILL");
            System.out.printf("[three nodes] new trainer %.1f s after the trainer's SIGKILL%n",
                    (System.nanoTime() - killedAt) / 1e9);
            assertNotEquals(trainerId, after.getJsonObject("cluster").getString("trainer_node"));
            String audited = load.get();
            assertTrue(audited.contains("audit: PASS"), audited);

            // Every training item in the new trainer's lineage exactly once, in order: none twice, none skipped.
            Node newTrainer = nodeWithId(others, after.getJsonObject("cluster"),
                    after.getJsonObject("cluster").getString("trainer_node"));
            awaitStats(newTrainer.url(), s -> s.getLong("untrained_ab_votes") == 0
                    && s.getJsonObject("campaign").getLong("untrained_items") == 0, WAIT,
                    "the new trainer to take every vote");
            assertLineageCoversEveryItemOnce(newTrainer.url());

            // SIGKILL a node that does not train while it takes votes: what it acknowledged is in the database.
            Node victim = others.stream().filter(n -> n != newTrainer).findFirst().orElseThrow();
            CompletableFuture<String> onVictim = CompletableFuture.supplyAsync(() -> loadtest("loadtest", "--url",
                    newTrainer.url() + "," + victim.url(), "--admin-token", ADMIN, "--annotators", "4",
                    "--duration", "8s", "--think-time", "50ms"));
            Thread.sleep(3_000);
            victim.process().kill();
            String victimAudit = onVictim.get();
            assertTrue(victimAudit.contains("audit: PASS"), victimAudit);
        } finally {
            for (Node n : nodes) {
                n.process().close();
            }
        }
    }

    static Node nodeWithId(List<Node> nodes, JsonObject view, String id) {
        for (Object o : view.getJsonArray("nodes")) {
            JsonObject n = (JsonObject) o;
            if (n.getString("node_id").equals(id)) {
                return nodes.stream().filter(x -> x.url().equals(n.getString("url"))).findFirst().orElseThrow();
            }
        }
        throw new AssertionError("no node " + id + " in " + view.encode());
    }

    /**
     * The new trainer's step log (its own steps and those it resumed from the database's checkpoint) against the
     * training items in the database: steps 1..N with none missing, each step's items those after the step before
     * (its last_item_id rises strictly, so no item is in two steps), and the last step ends at the last item.
     */
    static void assertLineageCoversEveryItemOnce(String url) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/api/training/metrics?since=0"))
                .header("Authorization", "Bearer " + ADMIN).build(), HttpResponse.BodyHandlers.ofString());
        JsonArray steps = new JsonObject(r.body()).getJsonArray("steps");
        long last = 0;
        for (int i = 0; i < steps.size(); i++) {
            JsonObject s = steps.getJsonObject(i);
            assertEquals(i + 1, s.getInteger("step"), "the lineage's steps, none missing: " + steps.encode());
            long end = s.getLong("last_item_id");
            assertTrue(end > last, "step " + (i + 1) + " took items of the step before: " + steps.encode());
            last = end;
        }
        try (var c = SharedPostgres.server().connect(db.database()); var st = c.createStatement();
             var rs = st.executeQuery("SELECT max(id), count(*) FILTER (WHERE trained_at_version IS NULL) "
                     + "FROM training_items")) {
            rs.next();
            assertEquals(rs.getLong(1), last, "the last step ends at the last training item");
            assertEquals(0, rs.getLong(2), "every item marked trained");
        }
    }
}
