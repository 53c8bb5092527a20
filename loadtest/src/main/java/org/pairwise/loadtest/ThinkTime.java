package org.pairwise.loadtest;

import java.time.Duration;
import java.util.SplittableRandom;

/**
 * How long a simulated annotator looks at a pair before voting. {@link #parse} reads {@code 0}, a fixed
 * {@code 200ms}, {@code uniform:100ms..2s}, or {@code exp:500ms} (exponential with that mean: memoryless, the usual
 * model of independent people).
 */
public sealed interface ThinkTime {

    /** Nanoseconds for one vote, drawn from {@code rng}. */
    long sampleNanos(SplittableRandom rng);

    /** The text form {@link #parse} reads back. */
    String spec();

    record Fixed(Duration value) implements ThinkTime {
        @Override
        public long sampleNanos(SplittableRandom rng) {
            return value.toNanos();
        }

        @Override
        public String spec() {
            return Durations.format(value);
        }
    }

    record Uniform(Duration min, Duration max) implements ThinkTime {
        public Uniform {
            if (max.compareTo(min) < 0) {
                throw new IllegalArgumentException("think time: uniform range " + Durations.format(min) + ".."
                        + Durations.format(max) + " ends before it starts");
            }
        }

        @Override
        public long sampleNanos(SplittableRandom rng) {
            long lo = min.toNanos(), hi = max.toNanos();
            return lo == hi ? lo : lo + rng.nextLong(hi - lo + 1);
        }

        @Override
        public String spec() {
            return "uniform:" + Durations.format(min) + ".." + Durations.format(max);
        }
    }

    record Exponential(Duration mean) implements ThinkTime {
        @Override
        public long sampleNanos(SplittableRandom rng) {
            // Inverse CDF; 1 - u is in (0, 1], so the log is finite.
            return Math.round(-Math.log(1 - rng.nextDouble()) * mean.toNanos());
        }

        @Override
        public String spec() {
            return "exp:" + Durations.format(mean);
        }
    }

    static ThinkTime none() {
        return new Fixed(Duration.ZERO);
    }

    static ThinkTime parse(String text) {
        String t = text == null ? "" : text.strip();
        if (t.startsWith("uniform:")) {
            String range = t.substring("uniform:".length());
            int dots = range.indexOf("..");
            if (dots < 0) {
                throw new IllegalArgumentException("think time: '" + text + "' needs a range, e.g. uniform:100ms..2s");
            }
            return new Uniform(Durations.parse(range.substring(0, dots), "think time"),
                    Durations.parse(range.substring(dots + 2), "think time"));
        }
        if (t.startsWith("exp:")) {
            Duration mean = Durations.parse(t.substring("exp:".length()), "think time");
            if (mean.isZero()) {
                throw new IllegalArgumentException("think time: an exponential needs a mean above 0, got '" + text + "'");
            }
            return new Exponential(mean);
        }
        if (t.contains(":")) {
            throw new IllegalArgumentException("think time: unknown form '" + text
                    + "' (expected 0, 200ms, uniform:100ms..2s or exp:500ms)");
        }
        return new Fixed(Durations.parse(t, "think time"));
    }
}
