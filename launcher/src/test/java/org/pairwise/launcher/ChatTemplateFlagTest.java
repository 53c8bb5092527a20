package org.pairwise.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.model.Engine;

/**
 * Conversational data on a model without a chat template (stories260K): train and score say which record needs one
 * and which flag gives it, and with {@code --chat-template FILE} they render the records with that template.
 */
class ChatTemplateFlagTest {
    /** Role-prefixed turns; the generation prompt opens the assistant's turn. */
    static final String TEMPLATE = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
            + "{% if add_generation_prompt %}assistant:{% endif %}";

    static final String CONVERSATIONS = """
            {"prompt":[{"role":"user","content":"Tell me about a dog."}],"chosen":[{"role":"assistant","content":"The dog was kind."}],"rejected":[{"role":"assistant","content":"The dog was mean."}]}
            {"prompt":[{"role":"user","content":"Where did Lily go?"}],"chosen":[{"role":"assistant","content":"To the park."}],"rejected":[{"role":"assistant","content":"Nowhere."}]}
            """;

    @TempDir
    Path tmp;

    @Test
    void trainNamesTheFlagWithoutATemplateAndTrainsWithOne() throws Exception {
        String model = CliTest.stories("stories260K.gguf");
        Path data = Files.writeString(tmp.resolve("chat.jsonl"), CONVERSATIONS);
        Path out = tmp.resolve("out");
        String[] train = {"train", "--model", model, "--data", data.toString(), "--output-dir", out.toString(),
            "--max-steps", "2", "--per-device-train-batch-size", "2", "--lora-r", "2", "--lora-alpha", "4",
            "--logging-steps", "1", "--gradient-checkpointing=false"};

        CliTest.Result bare = CliTest.run(train);
        CliTest.assertOneLineError(bare, data + ":1: a conversational record (message lists) needs a chat template");
        assertTrue(bare.err().contains("give one with --chat-template FILE"), bare.err());
        assertFalse(Files.exists(out.resolve("adapter_model.safetensors")), "nothing trained");

        Path template = Files.writeString(tmp.resolve("chat.jinja"), TEMPLATE);
        CliTest.Result r = CliTest.run(concat(train, "--chat-template", template.toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("training on 2 pairs") && r.out().contains("done: 2 steps"), r.out());
        assertTrue(Files.exists(out.resolve("adapter_model.safetensors")));
        JsonNode cfg = Json.MAPPER.readTree(out.resolve("training_config.json").toFile());
        assertEquals(template.toString(), cfg.get("chat_template").asText(), "recorded with the run's settings");

        // The same setting from a --config file, under its snake_case key.
        Path yaml = Files.writeString(tmp.resolve("dpo.yaml"), "chat_template: " + template + "\n");
        Path out2 = tmp.resolve("out2");
        String[] fromFile = train.clone();
        fromFile[6] = out2.toString();
        assertEquals(0, CliTest.run(concat(fromFile, "--config", yaml.toString())).code());
        assertTrue(Files.exists(out2.resolve("adapter_model.safetensors")));
    }

    @Test
    void scoreRendersThePromptWithTheTemplateFile() throws Exception {
        String model = CliTest.stories("stories260K.gguf");
        Path data = Files.writeString(tmp.resolve("chat.jsonl"), CONVERSATIONS);
        Path scores = tmp.resolve("scores.jsonl");
        String[] score = {"score", "--model", model, "--data", data.toString(), "--out", scores.toString()};
        CliTest.Result bare = CliTest.run(score);
        CliTest.assertOneLineError(bare, "--chat-template FILE");
        assertFalse(Files.exists(scores));

        Path template = Files.writeString(tmp.resolve("chat.jinja"), TEMPLATE);
        CliTest.Result r = CliTest.run(concat(score, "--chat-template", template.toString()));
        assertEquals(0, r.code(), r.err());
        List<String> lines = Files.readAllLines(scores);
        assertEquals(2, lines.size());
        try (Engine engine = Engine.open(model, null, "cpu", 1)) {
            // The prompts as the template renders them, written out by hand and tokenized without special tokens.
            String[] rendered = {"user: Tell me about a dog.\nassistant:", "user: Where did Lily go?\nassistant:"};
            for (int i = 0; i < 2; i++) {
                assertEquals(engine.tokenizer().encode(rendered[i], false).length,
                        Json.MAPPER.readTree(lines.get(i)).get("prompt_tokens").asInt(), "record " + (i + 1));
            }
        }
    }

    @Test
    void serveTrainAndScoreEachListTheFlag() {
        for (String command : List.of("serve", "train", "score")) {
            CliTest.Result help = CliTest.run(command, "--help");
            assertEquals(0, help.code(), help.err());
            assertTrue(help.out().contains("--chat-template=FILE"), command + ": " + help.out());
        }
        UsageErrorsTest.assertUsageError(CliTest.run("score", "--data", "x.jsonl", "--out", "y.jsonl",
                "--chat-template"), "--chat-template");
    }

    static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
