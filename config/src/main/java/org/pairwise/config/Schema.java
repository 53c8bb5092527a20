package org.pairwise.config;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The fields of one config record, in component order, and everything derived from them: defaults, help, and values
 * from a file (JSON or YAML), the environment ({@code PAIRWISE_<FIELD>}) and flags, with the precedence
 * defaults &lt; file &lt; environment &lt; flags. A record component may itself be a config record (a nested
 * schema) whose fields share one flat namespace with the outer ones. Values travel as flat maps from field name to
 * typed value until {@link #build} hands them to the record's canonical constructor, whose own checks (ranges,
 * combinations) then fail as {@link ConfigException}s too.
 */
public final class Schema<R extends Record> {
    /** The prefix of every environment variable that sets a field. */
    public static final String ENV_PREFIX = "PAIRWISE_";

    /** A titled group of fields, as help text shows them. */
    public record Section(String title, List<Field<?>> fields) {}

    private record Nested(RecordComponent component, Schema<?> schema) {}

    private final Class<R> type;
    private final String title;
    private final List<Object> members;          // Field or Nested, one per record component
    private final Map<String, String> aliases;   // another name -> field name
    private final Map<String, Field<?>> byName;  // every field, nested ones included
    private final Constructor<R> constructor;

    private Schema(Class<R> type, String title, List<Object> members, Map<String, String> aliases) {
        this.type = type;
        this.title = title;
        this.members = List.copyOf(members);
        this.aliases = Map.copyOf(aliases);
        RecordComponent[] components = type.getRecordComponents();
        if (components.length != members.size()) {
            throw new IllegalStateException(type.getSimpleName() + " has " + components.length + " components, its "
                    + "schema " + members.size() + " fields");
        }
        Map<String, Field<?>> names = new LinkedHashMap<>();
        for (int i = 0; i < components.length; i++) {
            switch (members.get(i)) {
                case Field<?> f -> {
                    check(components[i], f);
                    names.put(f.name(), f);
                }
                case Nested n -> n.schema().byName.forEach(names::put);
                default -> throw new IllegalStateException();
            }
        }
        int declared = members.stream().mapToInt(m -> m instanceof Nested n ? n.schema().byName.size() : 1).sum();
        if (names.size() != declared) {
            throw new IllegalStateException(type.getSimpleName() + ": two fields share a name");
        }
        aliases.forEach((alias, target) -> {
            if (!names.containsKey(target) || names.containsKey(alias)) {
                throw new IllegalStateException(type.getSimpleName() + ": bad alias " + alias + " -> " + target);
            }
        });
        this.byName = java.util.Collections.unmodifiableMap(names);
        try {
            this.constructor = type.getDeclaredConstructor(Arrays.stream(components).map(RecordComponent::getType)
                    .toArray(Class<?>[]::new));
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(e);
        }
    }

    private void check(RecordComponent c, Field<?> f) {
        String camel = camel(f.name());
        Class<?> ct = c.getType().isPrimitive() ? box(c.getType()) : c.getType();
        if (!c.getName().equals(camel) || !ct.isAssignableFrom(f.type().javaType())) {
            throw new IllegalStateException(type.getSimpleName() + "." + c.getName() + " (" + c.getType()
                    .getSimpleName() + ") does not match field " + f.name() + " (" + f.type().javaType()
                    .getSimpleName() + ")");
        }
        if (f.defaultValue() == null && !f.nullable() || f.nullable() && c.getType().isPrimitive()) {
            throw new IllegalStateException(f.name() + ": null is a value only of a nullable, boxed field");
        }
    }

    /** A schema for {@code type}, whose fields follow. */
    public static <R extends Record> Builder<R> of(Class<R> type, String title) {
        return new Builder<>(type, title);
    }

    public static final class Builder<R extends Record> {
        private final Class<R> type;
        private final String title;
        private final List<Object> members = new ArrayList<>();
        private final Map<String, String> aliases = new LinkedHashMap<>();

        private Builder(Class<R> type, String title) {
            this.type = type;
            this.title = title;
        }

        /** The next record components, one field each. */
        public Builder<R> fields(Field<?>... fields) {
            members.addAll(List.of(fields));
            return this;
        }

        /** The next record component: a config record of its own, whose fields join this namespace. */
        public Builder<R> nest(Schema<?> schema) {
            members.add(new Nested(type.getRecordComponents()[members.size()], schema));
            return this;
        }

        /** {@code alias} (flag, variable or key) stands for the field {@code target}. */
        public Builder<R> alias(String alias, String target) {
            aliases.put(alias, target);
            return this;
        }

        public Schema<R> build() {
            return new Schema<>(type, title, members, aliases);
        }
    }

    /** This schema with other defaults for some of its own fields (typed values, by name) and another title. */
    public Schema<R> withDefaults(String newTitle, Map<String, ?> defaults) {
        List<Object> changed = new ArrayList<>(members);
        for (Map.Entry<String, ?> d : defaults.entrySet()) {
            int i = changed.indexOf(byName.get(d.getKey()));
            if (i < 0) {
                throw new IllegalArgumentException(type.getSimpleName() + " has no field " + d.getKey());
            }
            changed.set(i, ((Field<?>) changed.get(i)).withDefault(d.getValue()));
        }
        return new Schema<>(type, newTitle, changed, aliases);
    }

    public String title() {
        return title;
    }

    /** Every field, nested ones included, in order. */
    public List<Field<?>> fields() {
        return List.copyOf(byName.values());
    }

    /** The fields of this record (not of nested ones), in component order. */
    public List<Field<?>> ownFields() {
        return members.stream().filter(m -> m instanceof Field<?>).<Field<?>>map(m -> (Field<?>) m).toList();
    }

    /** This record's fields under its title, then each nested record's sections. */
    public List<Section> sections() {
        List<Section> out = new ArrayList<>(List.of(new Section(title, ownFields())));
        members.stream().filter(m -> m instanceof Nested).forEach(m -> out.addAll(((Nested) m).schema().sections()));
        return out;
    }

    /** The other names of field {@code name}. */
    public List<String> aliasesOf(String name) {
        return aliases.entrySet().stream().filter(e -> e.getValue().equals(name)).map(Map.Entry::getKey).toList();
    }

    /** Every other name (alias -> field name). */
    public Map<String, String> aliases() {
        return aliases;
    }

    /** The field a name stands for (snake or kebab case, or an alias), or null. */
    public Field<?> field(String name) {
        String n = name.replace('-', '_');
        return byName.get(aliases.getOrDefault(n, n));
    }

    /** Every field at its default. */
    public R defaults() {
        return build(defaultValues());
    }

    /** Every field's default, by name (nested fields included). */
    public Map<String, Object> defaultValues() {
        Map<String, Object> m = new LinkedHashMap<>();
        byName.values().forEach(f -> m.put(f.name(), f.defaultValue()));
        return m;
    }

    /** Every field's value in {@code config}, by name (nested fields included). */
    public Map<String, Object> values(R config) {
        Map<String, Object> m = new LinkedHashMap<>();
        RecordComponent[] components = type.getRecordComponents();
        for (int i = 0; i < members.size(); i++) {
            Object v = get(components[i], config);
            switch (members.get(i)) {
                case Field<?> f -> m.put(f.name(), v);
                case Nested n -> m.putAll(valuesOf(n.schema(), v));
                default -> throw new IllegalStateException();
            }
        }
        return m;
    }

    @SuppressWarnings("unchecked")
    private static <N extends Record> Map<String, Object> valuesOf(Schema<N> schema, Object config) {
        return schema.values((N) config);
    }

    /** The record with these values (by name; a missing one takes its default); its checks fail as ConfigException. */
    public R build(Map<String, ?> values) {
        Object[] args = new Object[members.size()];
        for (int i = 0; i < args.length; i++) {
            args[i] = switch (members.get(i)) {
                case Field<?> f -> f.cast(values.containsKey(f.name()) ? values.get(f.name()) : f.defaultValue());
                case Nested n -> n.schema().build(values);
                default -> throw new IllegalStateException();
            };
        }
        try {
            return constructor.newInstance(args);
        } catch (InvocationTargetException e) {
            throw switch (e.getCause()) {
                case ConfigException c -> c;
                case IllegalArgumentException a -> new ConfigException(null, a.getMessage());
                case RuntimeException r -> r;
                default -> new IllegalStateException(e.getCause());
            };
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code base} with fields set from text (flags, or KEY=VALUE settings); names snake or kebab case. */
    public R with(R base, Map<String, String> text) {
        Map<String, Object> v = values(base);
        v.putAll(Sources.text(this, text));
        return build(v);
    }

    /** {@code base} with fields set to typed values (by name). */
    public R withValues(R base, Map<String, ?> typed) {
        Map<String, Object> v = values(base);
        typed.forEach((name, value) -> {
            Field<?> f = byName.get(name);
            if (f == null) {
                throw new IllegalArgumentException("no field " + name);
            }
            v.put(name, f.cast(value));
        });
        return build(v);
    }

    /** Defaults, then {@code file} (may be null), then {@code env}, then {@code flags}: typed values by name. */
    public Map<String, Object> resolve(Path file, Map<String, String> env, Map<String, String> flags)
            throws IOException {
        Map<String, Object> v = defaultValues();
        if (file != null) {
            v.putAll(Sources.file(this, file));
        }
        v.putAll(Sources.env(this, env));
        v.putAll(Sources.text(this, flags));
        return v;
    }

    /** The record {@link #resolve} describes. */
    public R load(Path file, Map<String, String> env, Map<String, String> flags) throws IOException {
        return build(resolve(file, env, flags));
    }

    /** {@code base} overlaid with a JSON or YAML file ({@code .yaml}/{@code .yml} read as YAML). */
    public R withFile(R base, Path file) throws IOException {
        Map<String, Object> v = values(base);
        v.putAll(Sources.file(this, file));
        return build(v);
    }

    /** {@code base} with every {@code PAIRWISE_<FIELD>} variable of {@code env} applied; others are ignored. */
    public R withEnv(R base, Map<String, String> env) {
        Map<String, Object> v = values(base);
        v.putAll(Sources.env(this, env));
        return build(v);
    }

    /** All fields as one JSON object with snake_case keys, in order. */
    public String toJson(R config) {
        return Sources.toJson(this, values(config));
    }

    /** The record a {@link #toJson} wrote: missing keys take their defaults, unknown keys fail. */
    public R fromJson(String json) {
        Map<String, Object> v = defaultValues();
        v.putAll(Sources.json(this, json, "json"));
        return build(v);
    }

    /** Every field by section: its flag, its other names and its description with the default. */
    public String help() {
        StringBuilder b = new StringBuilder();
        for (Section s : sections()) {
            b.append(s.title()).append(":\n");
            for (Field<?> f : s.fields()) {
                b.append("  ").append(f.flag());
                aliasesOf(f.name()).forEach(a -> b.append(", --").append(a.replace('_', '-')));
                b.append(' ').append(f.type().label()).append("\n      ").append(f.description()).append('\n');
            }
        }
        return b.toString();
    }

    private static Object get(RecordComponent c, Object config) {
        try {
            return c.getAccessor().invoke(config);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String camel(String snake) {
        StringBuilder b = new StringBuilder();
        for (String part : snake.split("_")) {
            b.append(b.isEmpty() ? part : Character.toUpperCase(part.charAt(0)) + part.substring(1));
        }
        return b.toString();
    }

    private static Class<?> box(Class<?> p) {
        return p == int.class ? Integer.class : p == long.class ? Long.class : p == double.class ? Double.class
                : p == boolean.class ? Boolean.class : p;
    }
}
