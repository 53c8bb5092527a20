package org.pairwise.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * How one kind of value is written as text (a flag, an environment variable, a scalar in a file) and read back. A
 * parser throws {@link IllegalArgumentException} with a message that says what was wrong with the text, e.g.
 * {@code 'abc' is not a number}; the {@link Field} puts its own name in front.
 */
public final class Type<T> {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    public static final Type<String> STRING = new Type<>(String.class, "TEXT", s -> s, s -> s, null);
    public static final Type<Integer> INT = new Type<>(Integer.class, "N", t -> (int) whole(t, Integer.MIN_VALUE,
            Integer.MAX_VALUE), String::valueOf, null);
    public static final Type<Long> LONG = new Type<>(Long.class, "N", t -> whole(t, Long.MIN_VALUE, Long.MAX_VALUE),
            String::valueOf, null);
    public static final Type<Double> DOUBLE = new Type<>(Double.class, "X", Type::number, Type::formatNumber, null);
    public static final Type<Boolean> BOOLEAN = new Type<>(Boolean.class, "BOOL", Type::bool, String::valueOf, null);

    private final Class<?> javaType;
    private final String label;
    private final Function<String, T> parser;
    private final Function<? super T, String> formatter;
    private final Type<?> element;

    private Type(Class<?> javaType, String label, Function<String, T> parser, Function<? super T, String> formatter,
                 Type<?> element) {
        this.javaType = javaType;
        this.label = label;
        this.parser = parser;
        this.formatter = formatter;
        this.element = element;
    }

    /** A type of one's own: {@code parser} reads text (its errors say what was expected), {@code format} writes it. */
    public static <V> Type<V> of(Class<V> javaType, String label, Function<String, V> parser,
                                 Function<? super V, String> format) {
        return new Type<>(javaType, label, parser, format, null);
    }

    /** One of {@code values}, named by {@code toString} (our enums' toString is the TRL name). */
    public static <E extends Enum<E>> Type<E> choice(Class<E> type) {
        return choice(type, Arrays.asList(type.getEnumConstants()), Object::toString);
    }

    /** One of {@code values}, each named by {@code name}. */
    public static <V> Type<V> choice(Class<V> type, List<V> values, Function<? super V, String> name) {
        String valid = values.stream().map(name).collect(Collectors.joining(", "));
        return new Type<>(type, "NAME", t -> {
            for (V v : values) {
                if (name.apply(v).equals(t)) {
                    return v;
                }
            }
            throw new IllegalArgumentException("unknown '" + t + "' (expected one of " + valid + ")");
        }, name, null);
    }

    /**
     * A list of {@code element}: in text, comma-separated, optionally in brackets with quoted items
     * ({@code a,b} or {@code ["a", "b"]}); in a file, a list (or one value, a list of one).
     */
    public static <E> Type<List<E>> listOf(Type<E> element) {
        return new Type<List<E>>(List.class, element.label + ",...", t -> {
            String body = t.startsWith("[") && t.endsWith("]") ? t.substring(1, t.length() - 1) : t;
            List<E> out = new ArrayList<>();
            for (String part : body.split(",")) {
                String s = part.strip();
                boolean quoted = s.startsWith("\"") && s.endsWith("\"") || s.startsWith("'") && s.endsWith("'");
                if (s.length() >= 2 && quoted) {
                    s = s.substring(1, s.length() - 1);
                }
                if (!s.isEmpty()) {
                    out.add(element.parse(s));
                }
            }
            return List.copyOf(out);
        }, list -> list.stream().map(element::format).collect(Collectors.joining(",")), element);
    }

    /** This type, where the text {@code word} also stands for {@code value} (e.g. PEFT's {@code all-linear}). */
    public Type<T> withShorthand(String word, T value) {
        return new Type<>(javaType, label, t -> t.equals(word) ? value : parser.apply(t), formatter, element);
    }

    /** This type, shown in help as {@code label} (DIR, FILE, ...). */
    public Type<T> labelled(String newLabel) {
        return new Type<>(javaType, newLabel, parser, formatter, element);
    }

    /** The Java type of its values (boxed); the record component it fills must be of this type. */
    public Class<?> javaType() {
        return javaType;
    }

    /** The placeholder in help text: N, X, BOOL, TEXT, NAME, ... */
    public String label() {
        return label;
    }

    /** The value {@code text} stands for; throws IllegalArgumentException saying what was expected. */
    public T parse(String text) {
        return parser.apply(text.strip());
    }

    /** The value of a node of a JSON or YAML file: scalars go through their text, one parser for every source. */
    public T read(JsonNode node) {
        if (node.isArray()) {
            if (element == null) {
                throw new IllegalArgumentException("expected one value (" + label + "), got a list");
            }
            List<Object> out = new ArrayList<>();
            for (JsonNode item : node) {
                if (!item.isValueNode() || item.isNull()) {
                    throw new IllegalArgumentException("list items must be plain values");
                }
                out.add(element.parse(item.asText()));
            }
            @SuppressWarnings("unchecked")
            T list = (T) List.copyOf(out);
            return list;
        }
        if (!node.isValueNode()) {
            throw new IllegalArgumentException("expected " + (element == null ? "a value" : "a list") + " ("
                    + label + "), got a mapping");
        }
        return parse(node.asText());
    }

    /** The text form, which {@link #parse} reads back. */
    public String format(T value) {
        return formatter.apply(value);
    }

    /** The value as a JSON node: numbers and booleans as such, lists as arrays, everything else as its text. */
    public JsonNode toJson(T value) {
        Object v = value;
        return switch (v) {
            case null -> NODES.nullNode();
            case Integer i -> NODES.numberNode(i);
            case Long l -> NODES.numberNode(l);
            case Double d -> NODES.numberNode(d);
            case Boolean b -> NODES.booleanNode(b);
            case List<?> list when element != null -> {
                ArrayNode a = NODES.arrayNode();
                list.forEach(item -> a.add(json(element, item)));
                yield a;
            }
            default -> NODES.textNode(format(value));
        };
    }

    @SuppressWarnings("unchecked")
    private static <E> JsonNode json(Type<E> type, Object value) {
        return type.toJson((E) value);
    }

    private static long whole(String t, long min, long max) {
        try {
            long v = Long.parseLong(t.replace("_", ""));
            if (v < min || v > max) {
                throw new IllegalArgumentException("'" + t + "' is out of range [" + min + ", " + max + "]");
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + t + "' is not a whole number");
        }
    }

    private static double number(String t) {
        double v;
        try {
            v = Double.parseDouble(t);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + t + "' is not a number");
        }
        if (!Double.isFinite(v)) {
            throw new IllegalArgumentException("'" + t + "' is not a finite number");
        }
        return v;
    }

    /** Shortest readable form: 0.1, 3.0, 1e-6 (Java's 1.0E-6 in the notation Python and YAML users write). */
    private static String formatNumber(double v) {
        String s = Double.toString(v);
        return s.contains("E") ? s.replace(".0E", "E").replace('E', 'e') : s;
    }

    private static boolean bool(String t) {
        return switch (t.toLowerCase(Locale.ROOT)) {  // transformers' HfArgumentParser string_to_bool
            case "true", "t", "yes", "y", "1" -> true;
            case "false", "f", "no", "n", "0" -> false;
            default -> throw new IllegalArgumentException("'" + t + "' is not a boolean (true or false)");
        };
    }
}
