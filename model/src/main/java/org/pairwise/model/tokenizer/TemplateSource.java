package org.pairwise.model.tokenizer;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Rewrites a Jinja2 chat template into an equivalent one that Jinjava parses as Jinja2 would:
 * <ul>
 *   <li>a keyword argument's value is parenthesised, since Jinjava binds {@code name=} tighter than arithmetic
 *       ({@code namespace(last=messages|length - 1)} would otherwise subtract 1 from the named parameter);
 *   <li>the reversing slice {@code [::-1]} becomes {@code |reverse}, a step Jinjava's slices do not have;
 *   <li>one trailing newline is dropped, as Jinja2 does by default (keep_trailing_newline=False).
 * </ul>
 * Only the insides of {@code {{ }}} and {@code {% %}} change; text, comments and raw blocks are copied as they are.
 */
final class TemplateSource {

    private static final Pattern RAW = Pattern.compile("\\{%-?\\s*raw\\s*-?%}");
    private static final Pattern END_RAW = Pattern.compile("\\{%-?\\s*endraw\\s*-?%}");

    private TemplateSource() {}

    static String forJinjava(String template) {
        String t = template.endsWith("\n") ? template.substring(0, template.length() - 1) : template;
        StringBuilder out = new StringBuilder(t.length() + 64);
        int i = 0;
        while (i < t.length()) {
            Matcher raw = RAW.matcher(t).region(i, t.length());
            if (raw.lookingAt()) {
                Matcher end = END_RAW.matcher(t);
                int stop = end.find(raw.end()) ? end.end() : t.length();
                out.append(t, i, stop);
                i = stop;
            } else if (t.startsWith("{#", i)) {
                int end = t.indexOf("#}", i + 2);
                int stop = end < 0 ? t.length() : end + 2;
                out.append(t, i, stop);
                i = stop;
            } else if (t.startsWith("{{", i) || t.startsWith("{%", i)) {
                out.append(t, i, i + 2);
                i = expression(t, i + 2, t.charAt(i + 1) == '{' ? "}}" : "%}", out);
            } else {
                out.append(t.charAt(i++));
            }
        }
        return out.toString();
    }

    /** Copies one tag's inside up to and including {@code close}, rewriting as it goes; returns the next index. */
    private static int expression(String t, int i, String close, StringBuilder out) {
        Deque<Character> brackets = new ArrayDeque<>();
        Deque<Integer> wrapped = new ArrayDeque<>(); // bracket depths at which a keyword value is still open
        char previous = ' '; // last non-blank character emitted
        while (i < t.length()) {
            char c = t.charAt(i);
            if (brackets.isEmpty() && t.startsWith(close, i)) {
                out.append(close);
                return i + close.length();
            }
            if (c == '\'' || c == '"') {
                int end = stringEnd(t, i);
                out.append(t, i, end);
                i = end;
                previous = c;
            } else if (t.startsWith("[::-1]", i)) {
                out.append("|reverse");
                i += 6;
                previous = 'e';
            } else if (c == '(' || c == '[' || c == '{') {
                brackets.push(c);
                out.append(c);
                i++;
                previous = c;
            } else if (c == ')' || c == ']' || c == '}' || c == ',') {
                if (!wrapped.isEmpty() && wrapped.peek() == brackets.size()) {
                    wrapped.pop();
                    out.append(')');
                }
                if (c != ',' && !brackets.isEmpty()) brackets.pop();
                out.append(c);
                i++;
                previous = c;
            } else if (Character.isJavaIdentifierStart(c) && (previous == '(' || previous == ',')
                    && !brackets.isEmpty() && brackets.peek() == '(') {
                int end = i;
                while (end < t.length() && Character.isJavaIdentifierPart(t.charAt(end))) end++;
                int eq = end;
                while (eq < t.length() && t.charAt(eq) == ' ') eq++;
                boolean keyword = eq + 1 < t.length() && t.charAt(eq) == '=' && t.charAt(eq + 1) != '=';
                out.append(t, i, keyword ? eq + 1 : end);
                if (keyword) {
                    out.append('(');
                    wrapped.push(brackets.size());
                }
                i = keyword ? eq + 1 : end;
                previous = keyword ? '=' : 'a';
            } else {
                out.append(c);
                i++;
                if (!Character.isWhitespace(c)) previous = c;
            }
        }
        return i;
    }

    private static int stringEnd(String t, int start) {
        char quote = t.charAt(start);
        int i = start + 1;
        while (i < t.length() && t.charAt(i) != quote) i += t.charAt(i) == '\\' ? 2 : 1;
        return Math.min(i + 1, t.length());
    }
}
