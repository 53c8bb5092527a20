package org.pairwise.loadtest.rules;

import java.util.SplittableRandom;

/**
 * Prefers the shorter (or longer) response, measured in Unicode code points of the stripped text. Equal lengths are a
 * coin flip, so the rule never leaks the side the server put a response on.
 */
public enum LengthRule implements PreferenceRule {
    SHORTER,
    LONGER;

    @Override
    public Choice choose(String promptText, String a, String b, SplittableRandom rng) {
        int la = length(a);
        int lb = length(b);
        if (la == lb) {
            return PreferenceRule.coin(rng);
        }
        boolean aShorter = la < lb;
        return (aShorter == (this == SHORTER)) ? Choice.A : Choice.B;
    }

    static int length(String s) {
        String t = s.strip();
        return t.codePointCount(0, t.length());
    }

    @Override
    public String spec() {
        return this == SHORTER ? "shorter" : "longer";
    }

    @Override
    public String toString() {
        return spec();
    }
}
