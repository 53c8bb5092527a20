package org.pairwise.server.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.pairwise.trainer.config.DpoConfig;

/**
 * Text forms of {@link ServeConfig}, driven by its record components (as DpoConfig's codec is) so that a new serving
 * field needs only its component and its line in {@link ServeConfig#DOCS}. Every source — file, environment, flags —
 * becomes a map of names to text first, so one parser serves all three.
 */
final class ServeConfigCodec {
    private ServeConfigCodec() {}

    private static final List<RecordComponent> SERVING = Arrays.stream(ServeConfig.class.getRecordComponents())
            .filter(c -> !c.getName().equals("dpo")).toList();

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    static String snake(String camel) {
        StringBuilder b = new StringBuilder();
        for (char ch : camel.toCharArray()) {
            b.append(Character.isUpperCase(ch) ? "_" + Character.toLowerCase(ch) : String.valueOf(ch));
        }
        return b.toString();
    }

    static ServeConfig apply(ServeConfig base, Map<String, String> overrides) {
        Map<String, Object> values = new LinkedHashMap<>();
        for (RecordComponent c : SERVING) {
            values.put(snake(c.getName()), get(c, base));
        }
        Map<String, String> dpo = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            String name = e.getKey().replace('-', '_');
            name = ServeConfig.ALIASES.getOrDefault(name, name);
            RecordComponent c = component(name);
            if (c != null) {
                values.put(name, parse(c, name, e.getValue()));
            } else if (DpoConfig.fieldNames().contains(name)) {
                dpo.put(name, e.getValue());
            } else {
                throw new IllegalArgumentException("unknown option '" + e.getKey() + "' (not a serve setting nor a "
                        + "DPOConfig field; see pairwise serve --help)");
            }
        }
        List<Object> args = new ArrayList<>(values.values());
        args.add(base.dpo().withOverrides(dpo));
        Class<?>[] types = Arrays.stream(ServeConfig.class.getRecordComponents()).map(RecordComponent::getType)
                .toArray(Class<?>[]::new);
        try {
            return ServeConfig.class.getDeclaredConstructor(types).newInstance(args.toArray());
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;  // the record's own validation, which names the field
            }
            throw new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code PAIRWISE_<UPPER_SNAKE>} for every serving field, alias and DPO field; other variables are ignored. */
    static Map<String, String> fromEnv(Map<String, String> env) {
        List<String> names = new ArrayList<>(ServeConfig.DOCS.keySet());
        names.addAll(ServeConfig.ALIASES.keySet());
        names.addAll(DpoConfig.fieldNames());
        Map<String, String> out = new LinkedHashMap<>();
        for (String n : names) {
            String key = DpoConfig.ENV_PREFIX + n.toUpperCase(Locale.ROOT);
            if (env.containsKey(key)) {
                out.put(n, env.get(key));
            }
        }
        return out;
    }

    /** A JSON or YAML mapping of snake_case names to values, as text ({@code .yaml}/{@code .yml} read as YAML). */
    static Map<String, String> readFile(Path file) throws IOException {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        ObjectMapper mapper = name.endsWith(".yaml") || name.endsWith(".yml") ? YAML : JSON;
        JsonNode root;
        try {
            root = mapper.readTree(Files.readString(file));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": " + e.getOriginalMessage(), e);
        }
        Map<String, String> out = new LinkedHashMap<>();
        if (root == null || root.isMissingNode() || root.isNull()) {
            return out;
        }
        if (!root.isObject()) {
            throw new IllegalArgumentException(file + ": expected a mapping of option names to values");
        }
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            JsonNode v = e.getValue();
            if (v.isArray()) {
                List<String> parts = new ArrayList<>();
                v.forEach(el -> parts.add(el.asText()));
                out.put(e.getKey(), String.join(",", parts));
            } else if (v.isValueNode()) {
                out.put(e.getKey(), v.isNull() ? "null" : v.asText());
            } else {
                throw new IllegalArgumentException(file + ": " + e.getKey() + ": expected a value, got a mapping");
            }
        }
        return out;
    }

    private static RecordComponent component(String snakeName) {
        for (RecordComponent c : SERVING) {
            if (snake(c.getName()).equals(snakeName)) {
                return c;
            }
        }
        return null;
    }

    private static Object get(RecordComponent c, ServeConfig cfg) {
        try {
            return c.getAccessor().invoke(cfg);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object parse(RecordComponent c, String field, String text) {
        String t = text.trim();
        Class<?> type = c.getType();
        try {
            if (type == String.class) {
                // Optional paths and tokens: empty or null means unset (the required ones reject it by validation).
                return t.isEmpty() || t.equalsIgnoreCase("null") ? null : t;
            }
            if (type == int.class) {
                return Integer.parseInt(t);
            }
            if (type == long.class) {
                return Long.parseLong(t);
            }
            if (type == double.class) {
                return Double.parseDouble(t);
            }
            if (type == boolean.class) {
                return switch (t.toLowerCase(Locale.ROOT)) {
                    case "true", "t", "yes", "y", "1" -> true;
                    case "false", "f", "no", "n", "0" -> false;
                    default -> throw new IllegalArgumentException("'" + t + "' is not a boolean");
                };
            }
            if (type == List.class && c.getGenericType() instanceof ParameterizedType) {
                String body = t.startsWith("[") && t.endsWith("]") ? t.substring(1, t.length() - 1) : t;
                List<String> out = new ArrayList<>();
                for (String part : body.split(",")) {
                    String s = part.trim();
                    if (s.length() >= 2 && (s.startsWith("\"") || s.startsWith("'"))) {
                        s = s.substring(1, s.length() - 1);
                    }
                    if (!s.isEmpty()) {
                        out.add(s);
                    }
                }
                return out;
            }
        } catch (NumberFormatException e) {
            throw ServeConfig.bad(field, "'" + t + "' is not a " + (type == double.class ? "number" : "integer"));
        } catch (IllegalArgumentException e) {
            throw ServeConfig.bad(field, e.getMessage());
        }
        throw new IllegalStateException("no parser for " + c.getGenericType());
    }
}
