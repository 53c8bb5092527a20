package org.pairwise.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import jinjava.javax.el.CompositeELResolver;

/**
 * A Hugging Face chat template (Jinja2, from tokenizer_config.json) rendered the way transformers'
 * {@code apply_chat_template(..., tokenize=False)} renders it: trim_blocks and lstrip_blocks, one trailing newline
 * of the template dropped, Python string methods, Python's {@code tojson}, {@code raise_exception} and
 * {@code strftime_now}.
 */
public final class ChatTemplate {

    /** What to do about a model without a chat template, in the words of every command that needs one. */
    public static final String HOW_TO_GIVE_ONE = "give one with --chat-template FILE (a Jinja template, as "
            + "tokenizer_config.json's chat_template)";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Jinjava JINJA = newJinjava();
    /** Where raise_exception leaves its message: Jinjava turns exceptions inside expressions into soft errors. */
    private static final ThreadLocal<String> RAISED = new ThreadLocal<>();

    private final String source;
    private final String jinjavaSource;
    private final String bosToken;
    private final String eosToken;

    private ChatTemplate(String source, String bosToken, String eosToken) {
        this.source = source;
        this.jinjavaSource = TemplateSource.forJinjava(source);
        this.bosToken = bosToken;
        this.eosToken = eosToken;
    }

    public static ChatTemplate of(String template, String bosTokenOrNull, String eosTokenOrNull) {
        return new ChatTemplate(template, bosTokenOrNull, eosTokenOrNull);
    }

    /** The template of a tokenizer_config.json (its "default" when it lists several), if it has one. */
    public static Optional<ChatTemplate> fromConfig(String tokenizerConfigJson) {
        try {
            return fromConfig(JSON.readTree(tokenizerConfigJson));
        } catch (IOException e) {
            throw new IllegalArgumentException("malformed tokenizer_config.json: " + e.getMessage(), e);
        }
    }

    static Optional<ChatTemplate> fromConfig(JsonNode config) {
        JsonNode t = config.path("chat_template");
        String source = null;
        if (t.isTextual()) {
            source = t.asText();
        } else if (t.isArray()) {
            for (JsonNode named : t) {
                if ("default".equals(named.path("name").asText())) source = named.path("template").asText();
            }
        }
        if (source == null) return Optional.empty();
        return Optional.of(new ChatTemplate(
                source, tokenContent(config.get("bos_token")), tokenContent(config.get("eos_token"))));
    }

    /**
     * The template source in {@code file}: a Jinja file (the text of tokenizer_config.json's chat_template, as
     * transformers' {@code chat_template.jinja}), or a tokenizer_config.json that has a chat_template.
     */
    public static String readFile(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("chat template " + file + ": no such file", e);
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("chat template " + file + ": not UTF-8 text", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the chat template " + file, e);
        }
        if (file.getFileName().toString().endsWith(".json")) {
            return fromConfig(text).map(ChatTemplate::source).orElseThrow(() -> new IllegalArgumentException(
                    "chat template " + file + ": a JSON file must be a tokenizer_config.json with a chat_template"));
        }
        if (text.isBlank()) {
            throw new IllegalArgumentException("chat template " + file + " is empty");
        }
        return text;
    }

    /**
     * {@code tokenizerConfigJsonOrNull} with its chat_template replaced by {@code template}: the tokenizer then takes
     * its BOS/EOS for the template from the same places as for a template of its own.
     */
    public static String intoConfig(String tokenizerConfigJsonOrNull, String template) {
        try {
            ObjectNode config = tokenizerConfigJsonOrNull == null ? JSON.createObjectNode()
                    : (ObjectNode) JSON.readTree(tokenizerConfigJsonOrNull);
            config.put("chat_template", template);
            return JSON.writeValueAsString(config);
        } catch (IOException | ClassCastException e) {
            throw new IllegalArgumentException("malformed tokenizer_config.json: " + e.getMessage(), e);
        }
    }

    /** bos_token / eos_token appear as a string or as an AddedToken object with "content". */
    static String tokenContent(JsonNode token) {
        if (token == null || token.isNull()) return null;
        if (token.isTextual()) return token.asText();
        JsonNode content = token.get("content");
        return content == null || content.isNull() ? null : content.asText();
    }

    ChatTemplate withSpecialTokens(String bos, String eos) {
        return new ChatTemplate(source, bosToken != null ? bosToken : bos, eosToken != null ? eosToken : eos);
    }

    public String source() {
        return source;
    }

    public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt, Map.of());
    }

    /** {@code extraVariables} are further template variables, e.g. {@code enable_thinking}, {@code tools}. */
    public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt,
            Map<String, Object> extraVariables) {
        Map<String, Object> vars = new HashMap<>();
        vars.put("messages", messages);
        vars.put("add_generation_prompt", addGenerationPrompt);
        vars.put("bos_token", bosToken == null ? "" : bosToken);
        vars.put("eos_token", eosToken == null ? "" : eosToken);
        vars.put("tools", null);
        vars.putAll(extraVariables);
        RAISED.remove();
        RenderResult result;
        try {
            result = JINJA.renderForResult(jinjavaSource, vars);
        } finally {
            String raised = RAISED.get();
            RAISED.remove();
            if (raised != null) throw new IllegalArgumentException("chat template rejected the messages: " + raised);
        }
        for (TemplateError e : result.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new IllegalArgumentException("chat template failed at line " + e.getLineno() + ": "
                        + e.getMessage());
            }
        }
        return result.getOutput();
    }

    public String renderMessages(List<Message> messages, boolean addGenerationPrompt) {
        return render(Message.toMaps(messages), addGenerationPrompt);
    }

    private static Jinjava newJinjava() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withElResolver(resolver)
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseTrimmingForNotesAndExpressions(true)
                        .withUseNaturalOperatorPrecedence(true)
                        .withUsePyishObjectMapper(true)
                        .withKeepNullableLoopValues(true)
                        .build())
                .build();
        Jinjava jinjava = new Jinjava(config);
        jinjava.getGlobalContext().registerFunction(function("raise_exception", "raiseException", String.class));
        jinjava.getGlobalContext().registerFunction(function("strftime_now", "strftimeNow", String.class));
        jinjava.getGlobalContext().registerFilter(new ToJson());
        return jinjava;
    }

    private static ELFunctionDefinition function(String name, String javaName, Class<?>... params) {
        try {
            Method m = ChatTemplate.class.getDeclaredMethod(javaName, params);
            m.setAccessible(true);
            return new ELFunctionDefinition("", name, m);
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String raiseException(String message) {
        RAISED.set(message);
        throw new IllegalArgumentException(message);
    }

    private static String strftimeNow(String format) {
        return Strftime.format(format, ZonedDateTime.now());
    }

    /** transformers' tojson: json.dumps(x, ensure_ascii=False, indent=indent, sort_keys=sort_keys). */
    private static final class ToJson implements Filter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = kwargs.getOrDefault("indent", args.length > 0 ? args[0] : null);
            boolean sortKeys = Boolean.TRUE.equals(kwargs.get("sort_keys"));
            return PythonJson.dumps(var,
                    indent == null ? null : Integer.valueOf(((Number) toNumber(indent)).intValue()), sortKeys);
        }

        private static Object toNumber(Object o) {
            return o instanceof Number ? o : Long.valueOf(o.toString());
        }
    }
}
