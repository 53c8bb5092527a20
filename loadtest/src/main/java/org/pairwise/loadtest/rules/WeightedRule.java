package org.pairwise.loadtest.rules;

import java.util.List;
import java.util.SplittableRandom;

/**
 * A mix of rules: each vote picks one component with probability proportional to its weight and lets it decide.
 * {@code 0.7*contains:dragon+0.3*random} is a population in which 70% of votes follow the word and 30% are noise.
 */
public final class WeightedRule implements PreferenceRule {

    /** One term of the mix; weights need not sum to 1. */
    public record Component(double weight, PreferenceRule rule) {
        public Component {
            if (!(weight > 0) || Double.isInfinite(weight)) {
                throw new IllegalArgumentException("mix weight must be positive and finite, got " + weight);
            }
            if (rule == null) {
                throw new IllegalArgumentException("mix component needs a rule");
            }
        }
    }

    private final List<Component> components;
    private final double[] cumulative;

    public WeightedRule(List<Component> components) {
        if (components == null || components.isEmpty()) {
            throw new IllegalArgumentException("a weighted mix needs at least one rule");
        }
        this.components = List.copyOf(components);
        this.cumulative = new double[this.components.size()];
        double total = 0;
        for (int i = 0; i < cumulative.length; i++) {
            total += this.components.get(i).weight();
            cumulative[i] = total;
        }
        for (int i = 0; i < cumulative.length; i++) {
            cumulative[i] /= total;
        }
    }

    public List<Component> components() {
        return components;
    }

    @Override
    public Choice choose(String promptText, String a, String b, SplittableRandom rng) {
        double u = rng.nextDouble();
        int i = 0;
        // The last bound is 1.0 up to rounding; never run past the end because of it.
        while (i < cumulative.length - 1 && u >= cumulative[i]) {
            i++;
        }
        return components.get(i).rule().choose(promptText, a, b, rng);
    }

    @Override
    public String spec() {
        StringBuilder sb = new StringBuilder();
        for (Component c : components) {
            if (!sb.isEmpty()) {
                sb.append('+');
            }
            sb.append(formatWeight(c.weight())).append('*').append(c.rule().spec());
        }
        return sb.toString();
    }

    private static String formatWeight(double w) {
        return w == Math.rint(w) && Math.abs(w) < 1e15 ? Long.toString((long) w) : Double.toString(w);
    }

    @Override
    public String toString() {
        return spec();
    }
}
