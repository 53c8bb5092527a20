package org.pairwise.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * One field of a config record, declared once: from it come the default, the flag {@code --kebab-name}, the
 * environment variable {@code PAIRWISE_UPPER_SNAKE}, the file key {@code snake_name}, the help line and the errors,
 * which start with the name.
 *
 * @param name         snake_case; the record component it fills is its camelCase form
 * @param type         how values are read and written
 * @param defaultValue the value when no source sets it; null only for a nullable field
 * @param help         one line: what the field means (the default is appended to it in help text)
 * @param nullable     whether unset is a value: {@code null}, {@code none} or empty text, or a file's null
 * @param trl          the TRL/transformers class whose field of the same name this mirrors (DPOConfig,
 *                     TrainingArguments, ModelConfig), or null when the field is ours
 * @param negatable    whether a boolean field also has the flag {@code --no-kebab-name} (sets false)
 */
public record Field<T>(String name, Type<T> type, T defaultValue, String help, boolean nullable, String trl,
                       boolean negatable) {
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9]*(_[a-z0-9]+)*");

    public Field {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("field name '" + name + "' is not snake_case");
        }
        if (help == null || help.isBlank()) {
            throw new IllegalArgumentException(name + ": a field needs its help line");
        }
        if (negatable && type != Type.BOOLEAN) {
            throw new IllegalArgumentException(name + ": only a boolean field is negatable");
        }
    }

    /** A field of ours (not TRL's), not nullable, not negatable. */
    public static <T> Field<T> of(String name, Type<T> type, T defaultValue, String help) {
        return new Field<>(name, type, defaultValue, help, false, null, false);
    }

    /** This field, taking null (unset) as a value. */
    public Field<T> allowingNull() {
        return new Field<>(name, type, defaultValue, help, true, trl, negatable);
    }

    /** This field, marked as TRL's field of the same name in class {@code where}. */
    public Field<T> trl(String where) {
        return new Field<>(name, type, defaultValue, help, nullable, where, negatable);
    }

    /** This boolean field, with a {@code --no-NAME} flag as well. */
    public Field<T> withNegation() {
        return new Field<>(name, type, defaultValue, help, nullable, trl, true);
    }

    /** This field with another default (a command whose defaults differ from the record's). */
    public Field<T> withDefault(Object value) {
        return new Field<>(name, type, cast(value), help, nullable, trl, negatable);
    }

    /** The command-line flag: {@code --kebab-name}. */
    public String flag() {
        return "--" + name.replace('_', '-');
    }

    /** The environment variable: {@code PAIRWISE_UPPER_SNAKE}. */
    public String envName() {
        return envName(name);
    }

    static String envName(String snake) {
        return Schema.ENV_PREFIX + snake.toUpperCase(Locale.ROOT);
    }

    /** The default as help text shows it: its text form, or {@code none} when unset or empty. */
    public String defaultText() {
        return defaultValue == null || defaultValue instanceof List<?> l && l.isEmpty() ? "none"
                : type.format(defaultValue);
    }

    /** The help line with the default (and the TRL field it mirrors): what {@code --help} prints for this field. */
    public String description() {
        String h = help.strip();
        h = Character.toUpperCase(h.charAt(0)) + h.substring(1);
        return h + (h.endsWith(".") ? "" : ".") + " Default: " + defaultText() + "."
                + (trl == null ? "" : " From TRL's " + trl + ".");
    }

    /** The value {@code text} stands for; a bad text fails with a {@link ConfigException} naming this field. */
    public T parse(String text) {
        if (nullable && isUnset(text.strip())) {
            return null;
        }
        try {
            return type.parse(text);
        } catch (ConfigException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw error(e.getMessage());
        }
    }

    /** The value of a node in a JSON or YAML file. */
    public T read(JsonNode node) {
        if (node.isNull()) {
            if (!nullable) {
                throw error("must be set (it cannot be null)");
            }
            return null;
        }
        try {
            return node.isValueNode() ? parse(node.asText()) : type.read(node);
        } catch (ConfigException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw error(e.getMessage());
        }
    }

    /** {@code value} as this field's type; a value of another type is a programming error. */
    @SuppressWarnings("unchecked")
    T cast(Object value) {
        if (value != null && !type.javaType().isInstance(value)) {
            throw new IllegalArgumentException(name + ": a " + value.getClass().getSimpleName() + " is not a "
                    + type.javaType().getSimpleName());
        }
        return (T) value;
    }

    /**
     * An error about this field: the message starts with its name, unless the parser's message already names it
     * (snake_case, or in words as loadtest's ThinkTime does: "think time: ...").
     */
    public ConfigException error(String why) {
        boolean named = why.startsWith(name + ":") || why.startsWith(name.replace('_', ' ') + ":");
        return new ConfigException(name, named ? why : name + ": " + why);
    }

    private static boolean isUnset(String t) {
        return t.isEmpty() || t.equalsIgnoreCase("null") || t.equalsIgnoreCase("none");
    }
}
