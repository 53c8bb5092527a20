package org.pairwise.loadtest.rules;

import java.util.SplittableRandom;

/**
 * Real annotators are inconsistent: this wraps a rule so that a vote is a tie with probability
 * {@code tieProbability}, "both bad" with probability {@code bothBadProbability}, and otherwise the wrapped rule's
 * choice, flipped to the other side with probability {@code flipProbability}.
 *
 * <p>A/B votes therefore follow the rule with probability {@code 1 - flipProbability}; a flip probability of 0.5 makes
 * them pure noise, and above 0.5 the annotators prefer the opposite of the rule.
 */
public record NoisyRule(PreferenceRule rule, double flipProbability, double tieProbability, double bothBadProbability)
        implements PreferenceRule {

    public NoisyRule {
        if (rule == null) {
            throw new IllegalArgumentException("noisy rule needs a rule to wrap");
        }
        checkProbability("flip", flipProbability);
        checkProbability("tie", tieProbability);
        checkProbability("both_bad", bothBadProbability);
        if (tieProbability + bothBadProbability > 1) {
            throw new IllegalArgumentException("tie probability + both_bad probability must be at most 1, got "
                    + tieProbability + " + " + bothBadProbability);
        }
    }

    /**
     * What {@code --noise P} means: the rule's choice is flipped with probability P, and a vote is a tie with
     * probability P/2 and "both bad" with probability P/2. At P = 0 this is the rule itself.
     */
    public static PreferenceRule withNoise(PreferenceRule rule, double p) {
        checkProbability("noise", p);
        return p == 0 ? rule : new NoisyRule(rule, p, p / 2, p / 2);
    }

    private static void checkProbability(String what, double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException(what + " probability must be in [0, 1], got " + p);
        }
    }

    @Override
    public Choice choose(String promptText, String a, String b, SplittableRandom rng) {
        // Draw both values and ask the rule on every vote, whatever the branch, so that changing a probability does not
        // shift the random sequence of all later votes: runs that differ only in noise stay comparable vote by vote.
        double kind = rng.nextDouble();
        double flip = rng.nextDouble();
        Choice ruled = rule.choose(promptText, a, b, rng);
        if (kind < tieProbability) {
            return Choice.TIE;
        }
        if (kind < tieProbability + bothBadProbability) {
            return Choice.BOTH_BAD;
        }
        return flip < flipProbability ? ruled.flipped() : ruled;
    }

    /** The wrapped rule's spec; the noise is a separate setting ({@code --noise}) and not part of the grammar. */
    @Override
    public String spec() {
        return rule.spec();
    }

    @Override
    public String toString() {
        return rule.spec() + " (flip " + flipProbability + ", tie " + tieProbability + ", both_bad "
                + bothBadProbability + ")";
    }
}
