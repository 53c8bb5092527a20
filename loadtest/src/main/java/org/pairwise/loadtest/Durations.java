package org.pairwise.loadtest;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as people type them on a command line: {@code 0}, {@code 250us}, {@code 200ms}, {@code 1.5s}, {@code 2m}. */
public final class Durations {
    private static final Pattern FORM = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ns|us|µs|ms|s|m|h)");

    private Durations() {}

    /** Parses {@code text}; {@code what} names the setting in the error, which says what was expected. */
    public static Duration parse(String text, String what) {
        try {
            return parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + ": " + e.getMessage(), e);
        }
    }

    /** Parses {@code text}; the error says what was expected (and not which setting it was for). */
    public static Duration parse(String text) {
        String t = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
        if (t.equals("0")) {
            return Duration.ZERO;
        }
        Matcher m = FORM.matcher(t);
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a duration (e.g. 0, 200ms, 1.5s, 2m, 1h)");
        }
        double v = Double.parseDouble(m.group(1));
        double nanosPerUnit = switch (m.group(2)) {
            case "ns" -> 1;
            case "us", "µs" -> 1e3;
            case "ms" -> 1e6;
            case "s" -> 1e9;
            case "m" -> 60e9;
            default -> 3600e9;
        };
        double nanos = v * nanosPerUnit;
        if (nanos > Long.MAX_VALUE / 2.0) {
            throw new IllegalArgumentException("'" + text + "' is too long");
        }
        return Duration.ofNanos(Math.round(nanos));
    }

    /** The shortest exact form: 250ms, 1.5s, 2m. */
    public static String format(Duration d) {
        long n = d.toNanos();
        if (n == 0) {
            return "0";
        }
        if (n % 3_600_000_000_000L == 0) {
            return n / 3_600_000_000_000L + "h";
        }
        if (n % 60_000_000_000L == 0) {
            return n / 60_000_000_000L + "m";
        }
        if (n >= 1_000_000_000L) {
            return trim(n / 1e9) + "s";
        }
        if (n >= 1_000_000L) {
            return trim(n / 1e6) + "ms";
        }
        return trim(n / 1e3) + "us";
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
