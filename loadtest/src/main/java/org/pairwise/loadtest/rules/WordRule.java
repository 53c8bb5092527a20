package org.pairwise.loadtest.rules;

import java.util.SplittableRandom;
import java.util.regex.Pattern;

/**
 * {@code contains:WORD} prefers the response that contains WORD, {@code avoids:WORD} the one that does not. WORD
 * matches as a whole word, case-insensitively: "Dog" and "dog." count for {@code dog}, "dogs" and "hotdog" do not.
 * When both or neither response contains it the vote is a coin flip, so the rule carries no signal there.
 */
public final class WordRule implements PreferenceRule {

    private final String word;
    private final boolean prefer;
    // Compiled once: a load test calls choose() thousands of times a second.
    private final Pattern pattern;

    /**
     * @param word   the word, matched literally (regex characters in it have no special meaning)
     * @param prefer true for {@code contains}, false for {@code avoids}
     */
    public WordRule(String word, boolean prefer) {
        if (word == null || word.isBlank()) {
            throw new IllegalArgumentException("word rule needs a non-empty word");
        }
        this.word = word.strip();
        this.prefer = prefer;
        this.pattern = wordPattern(this.word);
    }

    /** {@code contains:WORD}. */
    public static WordRule contains(String word) {
        return new WordRule(word, true);
    }

    /** {@code avoids:WORD}. */
    public static WordRule avoids(String word) {
        return new WordRule(word, false);
    }

    public String word() {
        return word;
    }

    /** True for {@code contains}, false for {@code avoids}. */
    public boolean prefersWord() {
        return prefer;
    }

    @Override
    public Choice choose(String promptText, String a, String b, SplittableRandom rng) {
        boolean inA = matches(a);
        boolean inB = matches(b);
        if (inA == inB) {
            return PreferenceRule.coin(rng);
        }
        return (inA == prefer) ? Choice.A : Choice.B;
    }

    /** Whether {@code text} contains the word as this rule sees it (whole word, case-insensitive). */
    public boolean matches(String text) {
        return pattern.matcher(text).find();
    }

    /** The whole-word, case-insensitive pattern for {@code word}, so measurements count exactly what the rule sees. */
    public static Pattern wordPattern(String word) {
        // Lookarounds instead of \b: \b treats only [A-Za-z0-9_] as word characters and would split "café".
        return Pattern.compile("(?<![\\p{L}\\p{N}_])" + Pattern.quote(word) + "(?![\\p{L}\\p{N}_])",
                Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
    }

    @Override
    public String spec() {
        return (prefer ? "contains:" : "avoids:") + word;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WordRule w && w.word.equals(word) && w.prefer == prefer;
    }

    @Override
    public int hashCode() {
        return word.hashCode() * 31 + Boolean.hashCode(prefer);
    }

    @Override
    public String toString() {
        return spec();
    }
}
