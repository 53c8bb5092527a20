package org.pairwise.model.tokenizer;

import org.pairwise.model.SharedModels;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Chat templates render byte for byte as transformers renders them (Jinja2 3.1 with HF's settings). The expected
 * strings were produced by Python's jinja2 with trim_blocks, lstrip_blocks and HF's tojson / raise_exception.
 */
class ChatTemplateTest {

    private static ChatTemplate qwen3() throws IOException {
        String config = Files.readString(SharedModels.require("qwen3-tokenizer/tokenizer_config.json"));
        return ChatTemplate.fromConfig(config).orElseThrow();
    }

    /** Insertion-ordered, null-tolerant map literal: json.dumps keeps key order. */
    static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    @Test
    void qwen3SystemAndUserWithGenerationPromptIsChatMl() throws IOException {
        String prompt = qwen3().renderMessages(
                List.of(Message.system("You are a helpful assistant."), Message.user("Hello!")), true);
        assertEquals("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                + "<|im_start|>user\nHello!<|im_end|>\n"
                + "<|im_start|>assistant\n", prompt);
    }

    @Test
    void qwen3WithoutThinkingAppendsAnEmptyThinkBlock() throws IOException {
        String prompt = qwen3().render(Message.toMaps(List.of(Message.user("Hello!"))), true,
                Map.of("enable_thinking", false));
        assertEquals("<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n", prompt);
    }

    @Test
    void qwen3MultiTurnDropsPastReasoning() throws IOException {
        String prompt = qwen3().renderMessages(List.of(
                Message.system("You are a helpful assistant."),
                Message.user("Hi"),
                Message.assistant("<think>\nThe user greets.\n</think>\n\nHello! How can I help?"),
                Message.user("Tell me a joke.")), true);
        assertEquals("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                + "<|im_start|>user\nHi<|im_end|>\n"
                + "<|im_start|>assistant\nHello! How can I help?<|im_end|>\n"
                + "<|im_start|>user\nTell me a joke.<|im_end|>\n"
                + "<|im_start|>assistant\n", prompt);
    }

    @Test
    void qwen3FinalAssistantTurnKeepsItsReasoning() throws IOException {
        String text = qwen3().renderMessages(List.of(
                Message.user("Hi"), Message.assistant("<think>\nThe user greets.\n</think>\n\nHello!")), false);
        assertEquals("<|im_start|>user\nHi<|im_end|>\n"
                + "<|im_start|>assistant\n<think>\nThe user greets.\n</think>\n\nHello!<|im_end|>\n", text);
    }

    @Test
    void qwen3ToolsAreListedAsPythonJson() throws IOException {
        Map<String, Object> tool = map("type", "function", "function", map(
                "name", "get_weather",
                "description", "Weather in a city",
                "parameters", map("type", "object",
                        "properties", map("city", map("type", "string", "description", "Zürich or \"Paris\"")),
                        "required", List.of("city"))));
        String prompt = qwen3().render(Message.toMaps(List.of(
                Message.system("You are a helpful assistant."), Message.user("Weather in Paris?"))), true,
                Map.of("tools", List.of(tool)));
        assertEquals("<|im_start|>system\nYou are a helpful assistant.\n\n# Tools\n\nYou may call one or more"
                + " functions to assist with the user query.\n\nYou are provided with function signatures within"
                + " <tools></tools> XML tags:\n<tools>\n"
                + "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Weather in a"
                + " city\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\","
                + " \"description\": \"Zürich or \\\"Paris\\\"\"}}, \"required\": [\"city\"]}}}\n</tools>\n\n"
                + "For each function call, return a json object with function name and arguments within"
                + " <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\":"
                + " <args-json-object>}\n</tool_call><|im_end|>\n"
                + "<|im_start|>user\nWeather in Paris?<|im_end|>\n<|im_start|>assistant\n", prompt);
    }

    @Test
    void qwen3ToolCallAndToolResponse() throws IOException {
        List<Map<String, Object>> messages = new ArrayList<>();
        messages.add(map("role", "user", "content", "Weather in Paris?"));
        messages.add(map("role", "assistant", "content", "", "tool_calls", List.of(map("type", "function",
                "function", map("name", "get_weather", "arguments", map("city", "Paris", "days", 2.5))))));
        messages.add(map("role", "tool", "content", "{\"temp\": 21}"));
        assertEquals("<|im_start|>user\nWeather in Paris?<|im_end|>\n"
                + "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\":"
                + " \"Paris\", \"days\": 2.5}}\n</tool_call><|im_end|>\n"
                + "<|im_start|>user\n<tool_response>\n{\"temp\": 21}\n</tool_response><|im_end|>\n"
                + "<|im_start|>assistant\n", qwen3().render(messages, true));
    }

    @Test
    void raiseExceptionBecomesAClearError() {
        ChatTemplate alternating = ChatTemplate.of("{{ bos_token }}{% for message in messages %}"
                + "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
                + "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
                + "{% endif %}[{{ message['role'] }}] {{ message['content'] }}{% endfor %}", "<s>", "</s>");
        assertEquals("<s>[user] a[assistant] b",
                alternating.renderMessages(List.of(Message.user("a"), Message.assistant("b")), false));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> alternating.renderMessages(List.of(Message.user("a"), Message.user("b")), false));
        assertTrue(e.getMessage().contains("Conversation roles must alternate"), e.getMessage());
    }

    @Test
    void unknownMethodFailsInsteadOfRenderingBlank() {
        ChatTemplate broken = ChatTemplate.of("{{ messages[0].content.no_such_method() }}", null, null);
        assertThrows(IllegalArgumentException.class, () -> broken.renderMessages(List.of(Message.user("a")), false));
    }

    @Test
    void trimAndLstripBlocksAndTrailingNewline() {
        ChatTemplate t = ChatTemplate.of("{% for m in messages %}\n  {{ m.content }}\n{% endfor %}\n", null, null);
        assertEquals("  a\n  b\n", t.renderMessages(List.of(Message.user("a"), Message.user("b")), false));
        ChatTemplate expression = ChatTemplate.of("{{ messages[0].content }}\n\n", null, null);
        assertEquals("a\n", expression.renderMessages(List.of(Message.user("a")), false));
    }

    @Test
    void tojsonMatchesPythonJsonDumps() {
        Map<String, Object> x = map("name", "f", "n", 2.5, "tiny", 1e-7, "big", 1e16, "i", 3, "ok", true,
                "none", null, "s", "é\"\\\n\u0001", "l", List.of());
        ChatTemplate t = ChatTemplate.of("{{ x | tojson }}|{{ x | tojson(indent=2) }}", null, null);
        String compact = "{\"name\": \"f\", \"n\": 2.5, \"tiny\": 1e-07, \"big\": 1e+16, \"i\": 3, \"ok\": true,"
                + " \"none\": null, \"s\": \"é\\\"\\\\\\n\\u0001\", \"l\": []}";
        String indented = "{\n  \"name\": \"f\",\n  \"n\": 2.5,\n  \"tiny\": 1e-07,\n  \"big\": 1e+16,\n  \"i\": 3,\n"
                + "  \"ok\": true,\n  \"none\": null,\n  \"s\": \"é\\\"\\\\\\n\\u0001\",\n  \"l\": []\n}";
        assertEquals(compact + "|" + indented, t.render(List.of(), false, Map.of("x", x)));
    }

    @Test
    void pythonStringMethodsAndKeywordArguments() {
        ChatTemplate t = ChatTemplate.of("{% set ns = namespace(n=messages|length - 1, seen=false) %}"
                + "{{ ns.n }}|{{ 'a.b.c'.split('.')[-1] }}|{{ '\\n\\nx\\n'.strip('\\n') }}|{{ '  y '.strip() }}"
                + "|{% if 'abc'.startswith('ab') and not 'abc'.startswith('b') %}S{% endif %}"
                + "{% if 'abc'.endswith(('x', 'c')) %}E{% endif %}|{{ 'Hi'.upper() }}|{{ ['a', 1] }}"
                + "|{% for m in messages[::-1] %}{{ m.content }}{% endfor %}"
                + "|{% for k, v in {'k': 1}.items() %}{{ k }}={{ v }}{% endfor %}", null, null);
        assertEquals("1|c|x|y|SE|HI|['a', 1]|ba|k=1",
                t.renderMessages(List.of(Message.user("a"), Message.user("b")), false));
    }

    @Test
    void namedTemplateListPicksDefault() {
        String config = "{\"chat_template\": [{\"name\": \"tool_use\", \"template\": \"T\"},"
                + " {\"name\": \"default\", \"template\": \"{{ eos_token }}D\"}],"
                + " \"eos_token\": {\"content\": \"</s>\"}}";
        assertEquals("</s>D", ChatTemplate.fromConfig(config).orElseThrow().render(List.of(), false));
        assertTrue(ChatTemplate.fromConfig("{\"eos_token\": \"</s>\"}").isEmpty());
    }

    @Test
    void strftimeNowFollowsPythonDirectives() {
        String date = ChatTemplate.of("{{ strftime_now('%d %b %Y') }}", null, null).render(List.of(), false);
        assertTrue(date.matches("\\d\\d [A-Z][a-z]{2} \\d{4}"), date);
    }
}
