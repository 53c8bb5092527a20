package org.pairwise.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.model.Engine;
import org.pairwise.server.PairwiseServer;
import org.pairwise.server.config.ServeConfig;
import org.pairwise.trainer.data.PreferenceJsonl;
import org.pairwise.trainer.data.PreferencePair;

/**
 * A server on stories260K (no chat template of its own) given one by {@code --chat-template}: it generates from
 * conversation prompts rendered by that template, and its conversational export of the votes trains back on the same
 * model with the same template. The trainer sees exactly the prompt tokens the server generated from.
 */
class ConversationalRoundTripTest {
    static final String ADMIN_TOKEN = "round-trip-admin-token-0123456789abcdef0123456789";

    @TempDir
    Path tmp;

    final HttpClient http = HttpClient.newHttpClient();

    @Test
    void theConversationalExportTrainsBackWithTheServersTemplate() throws Exception {
        String model = CliTest.stories("stories260K.gguf");
        Path template = Files.writeString(tmp.resolve("chat.jinja"), ChatTemplateFlagTest.TEMPLATE);
        Path prompts = Files.writeString(tmp.resolve("prompts.jsonl"), """
                {"messages":[{"role":"user","content":"Tell me a story about a cat."}]}
                {"messages":[{"role":"system","content":"You tell short stories."},{"role":"user","content":"A dog?"}]}
                """);
        Path data = tmp.resolve("data");
        ServeConfig cfg = ServeConfig.defaults().withOverrides(Map.ofEntries(Map.entry("model", model),
                Map.entry("data_dir", data.toString()), Map.entry("port", "0"), Map.entry("admin_token", ADMIN_TOKEN),
                Map.entry("chat_template", template.toString()), Map.entry("prompts", prompts.toString()),
                Map.entry("max_new_tokens", "12"), Map.entry("pool_size", "2"), Map.entry("batch_size", "64"),
                Map.entry("generation_threads", "1"), Map.entry("training_threads", "1")));
        Path export = tmp.resolve("export.jsonl");
        try (PairwiseServer server = PairwiseServer.start(cfg)) {
            String base = server.url();
            assertTrue(Json.MAPPER.readTree(get(base + "/api/stats", null).body()).get("chat_template").asBoolean(),
                    "the server reports the template, so the dashboard offers the conversational export");
            for (String choice : List.of("a", "b", "a")) {
                JsonNode pair = Json.MAPPER.readTree(get(base + "/api/pairs/next", null).body());
                HttpResponse<String> vote = http.send(HttpRequest.newBuilder(URI.create(base + "/api/preferences"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(Json.MAPPER.createObjectNode()
                                .put("pair_id", pair.get("pair_id").asText()).put("choice", choice).toString()))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(201, vote.statusCode(), vote.body());
            }
            HttpResponse<String> r = get(base + "/api/export?format=conversational", ADMIN_TOKEN);
            assertEquals(200, r.statusCode(), r.body());
            Files.writeString(export, r.body());
        }
        List<int[]> storedPrompts = new ArrayList<>();
        List<String> storedChosen = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + data.resolve(PairwiseServer.DB_FILE));
             ResultSet rs = c.createStatement().executeQuery("SELECT p.prompt_ids, v.choice, p.a_text, p.b_text "
                     + "FROM preferences v JOIN pairs p ON p.pair_id = v.pair_id ORDER BY v.id")) {
            while (rs.next()) {
                storedPrompts.add(ints(rs.getBytes(1)));
                storedChosen.add(rs.getString(rs.getString(2).equals("a") ? 3 : 4));
            }
        }
        assertEquals(3, storedPrompts.size());

        // The records train on the same model, with the template the server rendered their prompts with.
        CliTest.Result train = CliTest.run("train", "--model", model, "--data", export.toString(), "--chat-template",
                template.toString(), "--output-dir", tmp.resolve("out").toString(), "--max-steps", "2",
                "--per-device-train-batch-size", "2", "--lora-r", "2", "--lora-alpha", "4",
                "--gradient-checkpointing=false");
        assertEquals(0, train.code(), train.err());
        assertTrue(train.out().contains("training on 3 pairs") && train.out().contains("done: 2 steps"), train.out());
        CliTest.assertOneLineError(CliTest.run("train", "--model", model, "--data", export.toString(), "--output-dir",
                tmp.resolve("out2").toString()), "give one with --chat-template FILE");

        try (Engine engine = Engine.open(model, null, template, "cpu", 1)) {
            List<PreferencePair> pairs = new PreferenceJsonl(engine.tokenizer(), engine.config().vocabSize())
                    .read(export);
            assertEquals(3, pairs.size());
            for (int i = 0; i < pairs.size(); i++) {
                assertArrayEquals(storedPrompts.get(i), pairs.get(i).promptIds(),
                        "record " + (i + 1) + ": the prompt tokens the pair was generated from");
                String chosen = engine.tokenizer().decode(pairs.get(i).chosenIds(), true);
                assertTrue(chosen.contains(storedChosen.get(i).strip()), chosen + " / " + storedChosen.get(i));
            }
        }
    }

    @Test
    void conversationPromptsWithoutATemplateStopTheStartNamingTheFlag() throws Exception {
        Path prompts = Files.writeString(tmp.resolve("prompts.jsonl"),
                "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}\n");
        ServeConfig cfg = ServeConfig.defaults().withOverrides(Map.of("model", CliTest.stories("stories260K.gguf"),
                "data_dir", tmp.resolve("data").toString(), "port", "0", "prompts", prompts.toString(),
                "generation_threads", "1", "training_threads", "1"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PairwiseServer.start(cfg));
        assertTrue(e.getMessage().startsWith("prompt 1: ") && e.getMessage().contains("has no chat template: give "
                + "one with --chat-template FILE"), e.getMessage());
    }

    private HttpResponse<String> get(String url, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).GET();
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        // The pool fills in the background after start-up: 503 until the first pair is ready.
        for (int i = 0; ; i++) {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 503 || i == 600) {
                return r;
            }
            Thread.sleep(100);
        }
    }

    /** Token ids as the store keeps them: little-endian int32. */
    private static int[] ints(byte[] blob) {
        ByteBuffer b = ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN);
        int[] out = new int[blob.length / 4];
        for (int i = 0; i < out.length; i++) {
            out[i] = b.getInt();
        }
        return out;
    }
}
