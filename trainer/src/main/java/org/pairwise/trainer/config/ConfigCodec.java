package org.pairwise.trainer.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.pairwise.trainer.data.Truncation;
import org.pairwise.trainer.dpo.LossType;
import org.pairwise.trainer.optim.LrSchedule;

/**
 * Text and JSON/YAML forms of {@link DpoConfig}, driven by its record components so that a new field needs no code
 * here: the snake_case name comes from the component name, the parser from its type.
 */
final class ConfigCodec {
    private ConfigCodec() {}

    /** One config field: its snake_case name, record component, and whether null (TRL's None) is allowed. */
    record Field(String snake, RecordComponent component, boolean nullable) {
        Type type() {
            return component.getGenericType();
        }
    }

    static final List<Field> FIELDS = Arrays.stream(DpoConfig.class.getRecordComponents())
            .map(c -> new Field(snake(c.getName()), c,
                    c.getType() == Integer.class || c.getName().equals("lossWeights")))
            .toList();

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    static String snake(String camel) {
        StringBuilder b = new StringBuilder();
        for (char ch : camel.toCharArray()) {
            if (Character.isUpperCase(ch)) {
                b.append('_').append(Character.toLowerCase(ch));
            } else {
                b.append(ch);
            }
        }
        return b.toString();
    }

    /** The field named {@code snakeName}; fails with {@code unknown} as the message when there is none. */
    static Field field(String snakeName, String unknown) {
        for (Field f : FIELDS) {
            if (f.snake().equals(snakeName)) {
                return f;
            }
        }
        throw new IllegalArgumentException(unknown);
    }

    static Map<String, Object> toMap(DpoConfig c) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (Field f : FIELDS) {
            try {
                m.put(f.snake(), f.component().getAccessor().invoke(c));
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
        return m;
    }

    static DpoConfig fromMap(Map<String, Object> values) {
        Class<?>[] types = FIELDS.stream().map(f -> f.component().getType()).toArray(Class<?>[]::new);
        Object[] args = FIELDS.stream().map(f -> values.get(f.snake())).toArray();
        try {
            return DpoConfig.class.getDeclaredConstructor(types).newInstance(args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;  // the record's own validation, which names the field
            }
            throw new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The value of field {@code f} written as text (a flag or an environment variable). */
    static Object parse(Field f, String text) {
        String t = text.trim();
        if (f.nullable() && (t.equalsIgnoreCase("null") || t.equalsIgnoreCase("none"))) {
            return null;
        }
        try {
            if (f.type() instanceof ParameterizedType p) {
                Type element = p.getActualTypeArguments()[0];
                if (f.snake().equals("lora_target_modules") && t.equals("all-linear")) {
                    return DpoConfig.LORA_MODULES;  // PEFT's shorthand for every linear projection
                }
                String body = t.startsWith("[") && t.endsWith("]") ? t.substring(1, t.length() - 1) : t;
                List<Object> out = new ArrayList<>();
                for (String part : body.split(",")) {
                    String s = part.trim();
                    if (s.length() >= 2 && (s.startsWith("\"") || s.startsWith("'"))) {
                        s = s.substring(1, s.length() - 1);
                    }
                    if (!s.isEmpty()) {
                        out.add(scalar(element, s));
                    }
                }
                return out;
            }
            return scalar(f.type(), t);
        } catch (IllegalArgumentException e) {
            throw DpoConfig.bad(f.snake(), e.getMessage());
        }
    }

    private static Object scalar(Type type, String t) {
        if (type == String.class) {
            return t;
        }
        if (type == double.class || type == Double.class) {
            try {
                return Double.parseDouble(t);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + t + "' is not a number");
            }
        }
        if (type == int.class || type == Integer.class) {
            try {
                return Integer.parseInt(t);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + t + "' is not an integer");
            }
        }
        if (type == boolean.class) {
            return switch (t.toLowerCase(Locale.ROOT)) {  // HfArgumentParser's string_to_bool
                case "true", "t", "yes", "y", "1" -> true;
                case "false", "f", "no", "n", "0" -> false;
                default -> throw new IllegalArgumentException("'" + t + "' is not a boolean");
            };
        }
        if (type == LossType.class) {
            return LossType.fromName(t);
        }
        if (type == LrSchedule.Kind.class) {
            return LrSchedule.Kind.fromName(t);
        }
        if (type == Truncation.Mode.class) {
            return Truncation.Mode.fromName(t);
        }
        throw new IllegalStateException("no parser for " + type);
    }

    static DpoConfig overlayFile(DpoConfig base, Path file) throws IOException {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean yaml = name.endsWith(".yaml") || name.endsWith(".yml");
        return overlay(base, yaml ? YAML : JSON, Files.readString(file), file.toString());
    }

    static DpoConfig overlayJson(DpoConfig base, String json, String source) {
        return overlay(base, JSON, json, source);
    }

    private static DpoConfig overlay(DpoConfig base, ObjectMapper mapper, String text, String source) {
        JsonNode root;
        try {
            root = mapper.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(source + ": " + e.getOriginalMessage(), e);
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            return base;  // an empty file changes nothing
        }
        if (!root.isObject()) {
            throw new IllegalArgumentException(source + ": expected a mapping of option names to values");
        }
        try {
            Map<String, Object> values = toMap(base);
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                Field f = field(e.getKey(), "unknown key '" + e.getKey() + "'");
                values.put(f.snake(), fromNode(f, e.getValue()));
            }
            return fromMap(values);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    private static Object fromNode(Field f, JsonNode node) {
        if (node.isNull()) {
            if (!f.nullable()) {
                throw DpoConfig.bad(f.snake(), "must not be null");
            }
            return null;
        }
        if (node.isArray()) {
            if (!(f.type() instanceof ParameterizedType p)) {
                throw DpoConfig.bad(f.snake(), "expected a single value, got a list");
            }
            List<Object> out = new ArrayList<>();
            for (JsonNode el : node) {
                if (!el.isValueNode() || el.isNull()) {
                    throw DpoConfig.bad(f.snake(), "list elements must be plain values");
                }
                try {
                    out.add(scalar(p.getActualTypeArguments()[0], el.asText()));
                } catch (IllegalArgumentException e) {
                    throw DpoConfig.bad(f.snake(), e.getMessage());
                }
            }
            return out;
        }
        if (!node.isValueNode()) {
            throw DpoConfig.bad(f.snake(), "expected a value, got a " + (node.isObject() ? "mapping" : "structure"));
        }
        // Numbers and booleans go through their text: one parser for files, flags and variables alike.
        return parse(f, node.asText());
    }

    static String toJson(DpoConfig c) {
        ObjectNode root = JSON.createObjectNode();
        toMap(c).forEach((k, v) -> put(root, k, v));
        try {
            return JSON.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void put(ObjectNode root, String key, Object v) {
        switch (v) {
            case null -> root.putNull(key);
            case Double d -> root.put(key, d);
            case Integer i -> root.put(key, i);
            case Boolean b -> root.put(key, b);
            case List<?> list -> {
                ArrayNode a = root.putArray(key);
                for (Object el : list) {
                    if (el instanceof Double d) {
                        a.add(d);
                    } else {
                        a.add(el.toString());
                    }
                }
            }
            default -> root.put(key, v.toString());  // strings and enums (whose toString is the TRL name)
        }
    }
}
