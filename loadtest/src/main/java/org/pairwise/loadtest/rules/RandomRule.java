package org.pairwise.loadtest.rules;

import java.util.SplittableRandom;

/** A or B with equal probability: the control for any experiment that claims a rule moved the policy. */
public enum RandomRule implements PreferenceRule {
    INSTANCE;

    @Override
    public Choice choose(String promptText, String a, String b, SplittableRandom rng) {
        return PreferenceRule.coin(rng);
    }

    @Override
    public String spec() {
        return "random";
    }

    @Override
    public String toString() {
        return spec();
    }
}
