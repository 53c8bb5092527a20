package org.pairwise.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.model.Engine;
import org.pairwise.model.SharedModels;
import org.pairwise.server.TestServers.Client;
import org.pairwise.trainer.data.PreferenceJsonl;
import org.pairwise.trainer.data.PreferencePair;

/**
 * Continuing a conversation over real HTTP on loopback: stories260K given Qwen3's chat template (its
 * tokenizer_config.json, by chat_template), three turns, each pair generated from the template's rendering of the
 * whole history (checked against the rendering written out by hand), stored with its parent, leased to its voter;
 * the conversational export gives the full history as the prompt and trains back to the same tokens. Then every
 * refusal, and a model without a chat template.
 */
@ExtendWith(VertxExtension.class)
class ContinueConversationTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    static String model() {
        return SharedModels.require("stories260K/stories260K.gguf").toString();
    }

    static Path qwen3Template() {
        return SharedModels.require("qwen3-tokenizer/tokenizer_config.json");
    }

    private static JsonObject pairFor(Client who) {
        var r = TestServers.await(() -> who.get("/api/pairs/next"), x -> x.statusCode() != 503,
                Duration.ofSeconds(120), "a pair");
        assertEquals(200, r.statusCode(), r.bodyAsString());
        return r.bodyAsJsonObject();
    }

    private static void vote(Client who, String pairId, String choice) {
        var r = who.post("/api/preferences", new JsonObject().put("pair_id", pairId).put("choice", choice).encode());
        assertEquals(201, r.statusCode(), r.bodyAsString());
    }

    private static HttpResponse<Buffer> continueFrom(Client who, String pairId, String message) {
        return who.post("/api/pairs/continue", new JsonObject().put("pair_id", pairId).put("message", message)
                .encode());
    }

    /** Qwen3's template on [user, assistant, user, ...] with the generation prompt, written out by hand. */
    static String qwenRendering(List<String[]> turns) {
        StringBuilder sb = new StringBuilder();
        for (String[] t : turns) {
            sb.append("<|im_start|>").append(t[0]).append('\n').append(t[1]).append("<|im_end|>\n");
        }
        return sb.append("<|im_start|>assistant\n").toString();
    }

    @Test
    void threeTurnsAreGeneratedOverTheWholeHistoryAndExportedWithIt(Vertx vertx) throws Exception {
        String model = model();
        Path template = qwen3Template();
        Path data = dir.resolve("data");
        try (PairwiseServer server = PairwiseServer.start(TestServers.config(data, Map.of("model", model,
                "chat_template", template.toString(), "votes_per_pair", "2")))) {
            Client http = new Client(WebClient.create(vertx), server.port(), server.adminToken());
            Client ann = http.as("ann");
            assertTrue(ann.get("/api/stats").bodyAsJsonObject().getBoolean("chat_template"));

            JsonObject first = pairFor(ann);
            vote(ann, first.getString("pair_id"), "a");
            var second = continueFrom(ann, first.getString("pair_id"), "What did she find?");
            assertEquals(201, second.statusCode(), second.bodyAsString());
            JsonObject p2 = second.bodyAsJsonObject();
            assertEquals(first.getString("pair_id"), p2.getString("parent_pair_id"));
            List<String[]> turns2 = List.of(new String[] {"user", first.getString("prompt")},
                    new String[] {"assistant", first.getJsonObject("a").getString("text")},
                    new String[] {"user", "What did she find?"});
            assertEquals(messages(turns2), p2.getJsonArray("messages"), "the history comes with the pair");

            vote(ann, p2.getString("pair_id"), "b");
            var third = continueFrom(ann, p2.getString("pair_id"), "Why was it there?");
            assertEquals(201, third.statusCode(), third.bodyAsString());
            JsonObject p3 = third.bodyAsJsonObject();
            List<String[]> turns3 = new ArrayList<>(turns2);
            turns3.add(new String[] {"assistant", p2.getJsonObject("b").getString("text")});
            turns3.add(new String[] {"user", "Why was it there?"});
            assertEquals(messages(turns3), p3.getJsonArray("messages"));
            vote(ann, p3.getString("pair_id"), "a");

            Path db = data.resolve(PairwiseServer.DB_FILE);
            try (Engine engine = Engine.open(model, null, "cpu", 1)) {
                // Generated from the chat template's rendering of the whole history, tokenized as HF does.
                assertArrayEquals(engine.tokenizer().encode(qwenRendering(turns2), false),
                        promptIds(db, p2.getString("pair_id")));
                assertArrayEquals(engine.tokenizer().encode(qwenRendering(turns3), false),
                        promptIds(db, p3.getString("pair_id")));
            }
            assertEquals(List.of(p2.getString("pair_id") + " " + first.getString("pair_id"),
                    p3.getString("pair_id") + " " + p2.getString("pair_id")), rows(db, "SELECT pair_id || ' ' || "
                    + "parent_pair_id FROM pairs WHERE parent_pair_id IS NOT NULL ORDER BY created_at"));
            assertEquals(List.of(ann.name("ann") + " voted 2"), rows(db, "SELECT annotator || ' ' || state || ' ' "
                    + "|| votes_wanted FROM assignments a JOIN pairs p ON p.pair_id = a.pair_id WHERE a.pair_id = '"
                    + p3.getString("pair_id") + "'"), "leased to its voter, wanted from k = 2 people");

            var export = http.admin(HttpMethod.GET, "/api/export?format=conversational");
            assertEquals(200, export.statusCode(), export.bodyAsString());
            String[] lines = export.bodyAsString().split("\n");
            assertEquals(3, lines.length);
            JsonNode expected = JSON.readTree("""
                    {"prompt": %s,
                     "chosen": [{"role": "assistant", "content": %s}],
                     "rejected": [{"role": "assistant", "content": %s}]}""".formatted(messages(turns3).encode(),
                    quoted(p3.getJsonObject("a").getString("text")), quoted(p3.getJsonObject("b").getString("text"))));
            assertEquals(expected, JSON.readTree(lines[2]));

            // `pairwise train --chat-template` reads that line back to the very prompt tokens the pair came from.
            Path file = Files.writeString(dir.resolve("export.jsonl"), export.bodyAsString());
            try (Engine engine = Engine.open(model, null, template, "cpu", 1)) {
                List<PreferencePair> read = new PreferenceJsonl(engine.tokenizer(), engine.config().vocabSize())
                        .read(file);
                assertArrayEquals(promptIds(db, p3.getString("pair_id")), read.get(2).promptIds());
            }
        }
    }

    @Test
    void refusalsSayWhyAndStoreNothing(Vertx vertx) throws Exception {
        Path data = dir.resolve("data");
        try (PairwiseServer server = PairwiseServer.start(TestServers.config(data, Map.of("model", model(),
                "chat_template", qwen3Template().toString())))) {
            Client http = new Client(WebClient.create(vertx), server.port(), server.adminToken());
            Client ann = http.as("ann");
            Client bob = http.as("bob");
            String voted = pairFor(ann).getString("pair_id");
            vote(ann, voted, "a");
            String tied = pairFor(ann).getString("pair_id");
            vote(ann, tied, "tie");
            Path db = data.resolve(PairwiseServer.DB_FILE);

            assertError(continueFrom(ann, "no-such-pair", "Hi"), 404, "unknown pair");
            assertError(continueFrom(bob, voted, "Hi"), 403, "you have no vote on this one");
            assertError(continueFrom(ann, tied, "Hi"), 409, "you voted tie on this pair");
            assertError(continueFrom(ann, voted, "x".repeat(4001)), 400, "message is longer than 4000 characters");
            assertError(continueFrom(ann, voted, " \n\t"), 400, "message has no visible characters");
            assertError(ann.post("/api/pairs/continue", new JsonObject().put("pair_id", voted).encode()), 400,
                    "message is required");
            assertError(ann.post("/api/pairs/continue", new JsonObject().put("message", "Hi").encode()), 400,
                    "pair_id is required");
            // As every state-changing route: another site's page may not continue a conversation as you.
            MultiMap crossSite = MultiMap.caseInsensitiveMultiMap().add("Content-Type", "application/json")
                    .add("Origin", "http://elsewhere.example");
            assertError(ann.send(HttpMethod.POST, "/api/pairs/continue", new JsonObject().put("pair_id", voted)
                    .put("message", "Hi").encode(), crossSite), 403, "cross-site request refused");
            // Every continuation is stored with its parent; the pool and the battle maker refill in the background
            // meanwhile, so the number of pairs is no measure of what the refusals did.
            assertEquals(List.of(), rows(db, "SELECT pair_id FROM pairs WHERE parent_pair_id IS NOT NULL"),
                    "nothing generated");
        }
    }

    @Test
    void aModelWithoutAChatTemplateNamesTheFlag(Vertx vertx) throws Exception {
        try (PairwiseServer server = PairwiseServer.start(TestServers.config(dir.resolve("data"),
                Map.of("model", model())))) {
            Client ann = new Client(WebClient.create(vertx), server.port(), server.adminToken()).as("ann");
            assertFalse(ann.get("/api/stats").bodyAsJsonObject().getBoolean("chat_template"));
            String voted = pairFor(ann).getString("pair_id");
            vote(ann, voted, "b");
            assertError(continueFrom(ann, voted, "And then?"), 409, "continuing a conversation needs a chat "
                    + "template to render its turns, and this model has none: give one with --chat-template FILE");
        }
    }

    private static void assertError(HttpResponse<Buffer> r, int status, String says) {
        assertEquals(status, r.statusCode(), r.bodyAsString());
        String error = r.bodyAsJsonObject().getString("error");
        assertTrue(error.contains(says), error);
    }

    private static JsonArray messages(List<String[]> turns) {
        JsonArray a = new JsonArray();
        for (String[] t : turns) {
            a.add(new JsonObject().put("role", t[0]).put("content", t[1]));
        }
        return a;
    }

    private static String quoted(String s) {
        return new JsonArray().add(s).encode().replaceAll("^\\[|]$", "");
    }

    private static int[] promptIds(Path db, String pairId) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
             PreparedStatement ps = c.prepareStatement("SELECT prompt_ids FROM pairs WHERE pair_id = ?")) {
            ps.setString(1, pairId);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next(), pairId);
                ByteBuffer b = ByteBuffer.wrap(rs.getBytes(1)).order(ByteOrder.LITTLE_ENDIAN);
                int[] out = new int[b.remaining() / 4];
                b.asIntBuffer().get(out);
                return out;
            }
        }
    }

    private static List<String> rows(Path db, String sql) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
             ResultSet rs = c.createStatement().executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
