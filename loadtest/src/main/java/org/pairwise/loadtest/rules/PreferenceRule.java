package org.pairwise.loadtest.rules;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * How a simulated annotator picks between the two responses of a pair.
 *
 * <p>Rules are stateless and draw all their randomness from the {@code rng} they are given, so a run is reproducible
 * from its seed; give each annotator its own {@link SplittableRandom#split() split}.
 *
 * <p>Spec grammar ({@link #parse}):
 * <pre>
 *   rule   := term ('+' term)*              a weighted mix when there is more than one term
 *   term   := [weight '*'] simple           weight: a positive number; 1 when omitted
 *   simple := shorter | longer | random | contains:WORD | avoids:WORD
 * </pre>
 * e.g. {@code contains:dragon}, {@code 0.7*contains:dragon+0.3*random}. Noise is not part of the spec: wrap any rule in
 * {@link NoisyRule}.
 */
public interface PreferenceRule {

    /**
     * The vote for a pair.
     *
     * @param promptText the pair's prompt (rules may ignore it)
     * @param a          response shown as A
     * @param b          response shown as B
     * @param rng        the annotator's random source; the only randomness a rule may use
     */
    Choice choose(String promptText, String a, String b, SplittableRandom rng);

    /** The spec this rule parses from; {@code parse(rule.spec())} behaves the same. */
    String spec();

    /**
     * Parses a rule spec (grammar in the class comment).
     *
     * @throws IllegalArgumentException naming the offending part when the spec is malformed
     */
    static PreferenceRule parse(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("empty preference rule (expected e.g. shorter, longer, random, "
                    + "contains:WORD, avoids:WORD or 0.7*contains:WORD+0.3*random)");
        }
        String[] terms = spec.strip().split("\\+", -1);
        if (terms.length == 1) {
            String t = terms[0].strip();
            if (t.contains("*")) {
                // A lone weighted term is a mix of one: accept it, the weight is then irrelevant.
                return parseTerm(t, spec).rule();
            }
            return parseSimple(t, spec);
        }
        List<WeightedRule.Component> parts = new ArrayList<>();
        for (String term : terms) {
            parts.add(parseTerm(term.strip(), spec));
        }
        return new WeightedRule(parts);
    }

    private static WeightedRule.Component parseTerm(String term, String spec) {
        if (term.isEmpty()) {
            throw new IllegalArgumentException("empty term in preference rule '" + spec + "'");
        }
        int star = term.indexOf('*');
        if (star < 0) {
            return new WeightedRule.Component(1.0, parseSimple(term, spec));
        }
        String w = term.substring(0, star).strip();
        double weight;
        try {
            weight = Double.parseDouble(w);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad weight '" + w + "' in preference rule '" + spec + "'");
        }
        if (!(weight > 0) || Double.isInfinite(weight)) {
            throw new IllegalArgumentException(
                    "weight must be a positive finite number, got '" + w + "' in preference rule '" + spec + "'");
        }
        return new WeightedRule.Component(weight, parseSimple(term.substring(star + 1).strip(), spec));
    }

    private static PreferenceRule parseSimple(String term, String spec) {
        int colon = term.indexOf(':');
        String name = (colon < 0 ? term : term.substring(0, colon)).strip().toLowerCase(java.util.Locale.ROOT);
        String arg = colon < 0 ? null : term.substring(colon + 1).strip();
        switch (name) {
            case "shorter", "longer", "random" -> {
                if (arg != null) {
                    throw new IllegalArgumentException(
                            "rule '" + name + "' takes no argument, got '" + term + "' in '" + spec + "'");
                }
                return switch (name) {
                    case "shorter" -> LengthRule.SHORTER;
                    case "longer" -> LengthRule.LONGER;
                    default -> RandomRule.INSTANCE;
                };
            }
            case "contains", "avoids" -> {
                if (arg == null || arg.isEmpty()) {
                    throw new IllegalArgumentException(
                            "rule '" + name + "' needs a word, e.g. " + name + ":dragon, in '" + spec + "'");
                }
                return new WordRule(arg, name.equals("contains"));
            }
            default -> throw new IllegalArgumentException("unknown preference rule '" + term + "' in '" + spec
                    + "' (expected shorter, longer, random, contains:WORD or avoids:WORD)");
        }
    }

    /** A fair coin between A and B: what the rules answer when their criterion does not separate the pair. */
    static Choice coin(SplittableRandom rng) {
        return rng.nextBoolean() ? Choice.A : Choice.B;
    }
}
