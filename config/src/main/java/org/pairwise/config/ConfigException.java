package org.pairwise.config;

/**
 * A setting that is wrong: an unknown name, a value of the wrong type, or a value its record rejects. The message
 * names the field (and the file or variable it came from); the CLI treats it as bad usage (exit status 2).
 */
public final class ConfigException extends IllegalArgumentException {
    private final String field;

    /** @param field the field's snake_case name, or null when the error is about several (or an unknown one) */
    public ConfigException(String field, String message) {
        super(message);
        this.field = field;
    }

    /** The field the error is about, or null. */
    public String field() {
        return field;
    }

    /** This error, said to come from {@code source} (a file or an environment variable). */
    ConfigException in(String source) {
        return new ConfigException(field, source + ": " + getMessage());
    }
}
