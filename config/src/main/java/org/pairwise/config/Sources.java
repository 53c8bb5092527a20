package org.pairwise.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Where values come from (text, the environment, a JSON or YAML file) and where they go (JSON). */
final class Sources {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private Sources() {}

    /** Values from text by field name (snake or kebab case, or an alias): flags and KEY=VALUE settings. */
    static Map<String, Object> text(Schema<?> schema, Map<String, String> text) {
        Map<String, Object> out = new LinkedHashMap<>();
        text.forEach((name, value) -> {
            Field<?> f = schema.field(name);
            if (f == null) {
                throw new ConfigException(null, "unknown option '" + name + "'" + suggestion(schema, name));
            }
            out.put(f.name(), f.parse(value));
        });
        return out;
    }

    /** Values from {@code PAIRWISE_<FIELD>} variables (aliases too); an error names the variable. */
    static Map<String, Object> env(Schema<?> schema, Map<String, String> env) {
        Map<String, Object> out = new LinkedHashMap<>();
        List<String> names = new ArrayList<>(schema.aliases().keySet());
        schema.fields().forEach(f -> names.add(f.name()));
        for (String name : names) {
            String key = Field.envName(name);
            if (env.containsKey(key)) {
                Field<?> f = schema.field(name);
                try {
                    out.put(f.name(), f.parse(env.get(key)));
                } catch (ConfigException e) {
                    throw e.in(key);
                }
            }
        }
        return out;
    }

    /** Values from a JSON or YAML file ({@code .yaml}/{@code .yml} read as YAML); an error names the file. */
    static Map<String, Object> file(Schema<?> schema, Path file) throws IOException {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean yaml = name.endsWith(".yaml") || name.endsWith(".yml");
        return tree(schema, yaml ? YAML : JSON, Files.readString(file), file.toString());
    }

    static Map<String, Object> json(Schema<?> schema, String json, String source) {
        return tree(schema, JSON, json, source);
    }

    private static Map<String, Object> tree(Schema<?> schema, ObjectMapper mapper, String text, String source) {
        JsonNode root;
        try {
            root = mapper.readTree(text);
        } catch (JsonProcessingException e) {
            throw new ConfigException(null, source + ": " + e.getOriginalMessage());
        }
        Map<String, Object> out = new LinkedHashMap<>();
        if (root == null || root.isMissingNode() || root.isNull()) {
            return out;  // an empty file changes nothing
        }
        if (!root.isObject()) {
            throw new ConfigException(null, source + ": expected a mapping of setting names to values");
        }
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            Field<?> f = schema.field(e.getKey());
            try {
                if (f == null) {
                    throw new ConfigException(null, "unknown key '" + e.getKey() + "'" + suggestion(schema,
                            e.getKey()));
                }
                out.put(f.name(), f.read(e.getValue()));
            } catch (ConfigException x) {
                throw x.in(source);
            }
        }
        return out;
    }

    static String toJson(Schema<?> schema, Map<String, Object> values) {
        ObjectNode root = JSON.createObjectNode();
        for (Field<?> f : schema.fields()) {
            root.set(f.name(), json(f, values.get(f.name())));
        }
        try {
            return JSON.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static <T> JsonNode json(Field<T> f, Object value) {
        return f.type().toJson(f.cast(value));
    }

    /** " (did you mean 'beta'?)" for a name close to a field's, else empty. */
    private static String suggestion(Schema<?> schema, String name) {
        String n = name.replace('-', '_');
        List<String> names = new ArrayList<>(schema.aliases().keySet());
        schema.fields().forEach(f -> names.add(f.name()));
        String best = null;
        int bestDistance = 3;  // at most two edits away
        for (String candidate : names) {
            int d = distance(n, candidate);
            if (d < bestDistance) {
                best = candidate;
                bestDistance = d;
            }
        }
        return best == null ? "" : " (did you mean '" + (name.contains("-") ? best.replace('_', '-') : best) + "'?)";
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j], cur[j - 1]) + 1);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
