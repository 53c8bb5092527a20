package org.pairwise.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.model.tokenizer.ChatTemplate;
import org.pairwise.model.tokenizer.Tokenizer;

/**
 * A chat template from a file (--chat-template) for a model that has none: stories260K, whose GGUF carries no
 * tokenizer.chat_template. The file is a Jinja template or a tokenizer_config.json holding one.
 */
class ChatTemplateFileTest {
    /** Role-prefixed turns; the generation prompt opens the assistant's turn. */
    static final String TEMPLATE = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
            + "{% if add_generation_prompt %}assistant:{% endif %}\n";

    @TempDir
    Path tmp;

    static String stories() {
        return SharedModels.require("stories260K/stories260K.gguf").toString();
    }

    @Test
    void aTemplateFileGivesAModelWithoutOneItsChatTemplate() throws Exception {
        Path file = Files.writeString(tmp.resolve("chat.jinja"), TEMPLATE);
        List<Map<String, Object>> chat = List.of(Map.of("role", "user", "content", "Tell me a story."));
        try (Engine plain = Engine.open(stories(), null, "cpu", 1)) {
            assertTrue(plain.tokenizer().chatTemplate().isEmpty(), "stories260K has no template of its own");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> plain.encodeChat(chat));
            assertTrue(e.getMessage().contains("has no chat template: give one with --chat-template FILE"),
                    e.getMessage());
        }
        try (Engine engine = Engine.open(stories(), null, file, "cpu", 1)) {
            Tokenizer tok = engine.tokenizer();
            assertEquals(TEMPLATE, tok.chatTemplate().orElseThrow().source());
            // Rendered by hand: the user turn, then the generation prompt; one trailing newline dropped, as Jinja2.
            assertArrayEquals(tok.encode("user: Tell me a story.\nassistant:", false), engine.encodeChat(chat));
        }
    }

    @Test
    void theTemplateSeesTheTokenizersOwnBosAndEos() throws Exception {
        Path file = Files.writeString(tmp.resolve("tokens.jinja"), "{{ bos_token }}|{{ eos_token }}");
        try (Engine engine = Engine.open(stories(), null, file, "cpu", 1)) {
            Tokenizer tok = engine.tokenizer();
            assertEquals(tok.tokenText(tok.bosId()) + "|" + tok.tokenText(tok.eosId()),
                    tok.chatTemplate().orElseThrow().render(List.of(), false));
        }
    }

    @Test
    void aTokenizerConfigFileLendsItsTemplate() throws Exception {
        Path config = Files.writeString(tmp.resolve("tokenizer_config.json"),
                "{\"eos_token\": \"</s>\", \"chat_template\": \"{{ messages[0]['content'] }}!\"}");
        assertEquals("{{ messages[0]['content'] }}!", ChatTemplate.readFile(config));
        Path none = Files.writeString(tmp.resolve("other.json"), "{\"eos_token\": \"</s>\"}");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ChatTemplate.readFile(none)).getMessage()
                .contains("must be a tokenizer_config.json with a chat_template"));
    }

    @Test
    void aMissingOrEmptyFileFailsBeforeTheModelLoads() throws Exception {
        Path missing = tmp.resolve("missing.jinja");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Engine.open("no-such-model-dir", null, missing, "cpu", 1));
        assertEquals("chat template " + missing + ": no such file", e.getMessage());
        Path empty = Files.writeString(tmp.resolve("empty.jinja"), " \n");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ChatTemplate.readFile(empty)).getMessage()
                .endsWith("is empty"));
    }

    @Test
    void aTemplateInTheConfigReplacesTheModelsOwnAndKeepsTheRest() {
        String merged = ChatTemplate.intoConfig("{\"eos_token\": \"<|im_end|>\", \"chat_template\": \"old\"}",
                "new {{ eos_token }}");
        ChatTemplate t = ChatTemplate.fromConfig(merged).orElseThrow();
        assertEquals("new {{ eos_token }}", t.source());
        assertEquals("new <|im_end|>", t.render(List.of(), false), "the config's eos_token is kept");
        assertEquals("{\"chat_template\":\"x\"}", ChatTemplate.intoConfig(null, "x"));
    }
}
