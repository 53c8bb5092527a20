package org.pairwise.trainer.optim;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The learning-rate schedules of transformers' {@code get_scheduler} (a {@code LambdaLR} multiplier on the peak rate)
 * with the warmup length transformers' {@code Trainer} derives. {@code lr(step)} is the rate of optimizer step
 * {@code step}, counted from 0: the first update uses {@code lr(0)} (0 during warmup).
 *
 * <p>The logged {@code learning_rate}: transformers 5 (TRL 1.x) reads {@code get_last_lr()} after
 * {@code optimizer.step()} and before {@code scheduler.step()}, so the value logged at {@code global_step} s (s updates
 * done) is {@code lr(s - 1)}, the rate of the update just taken (older transformers read it after the scheduler's step,
 * the rate of the next one).
 *
 * <p>Warmup length: {@code warmup_steps} ≥ 1 is a step count (truncated to an integer); 0 &lt; {@code warmup_steps}
 * &lt; 1 is a ratio of the total (transformers ≥ 5 reads it so); {@code warmup_steps} = 0 falls back to
 * {@code warmup_ratio} (transformers 4, still in TRL users' configs). A ratio gives ceil(total × ratio) steps.
 */
public final class LrSchedule {
    /** transformers' {@code SchedulerType} names we implement. */
    public enum Kind {
        LINEAR("linear"), COSINE("cosine"), CONSTANT("constant"), CONSTANT_WITH_WARMUP("constant_with_warmup");

        private final String hfName;

        Kind(String hfName) {
            this.hfName = hfName;
        }

        public String hfName() {
            return hfName;
        }

        public static Kind fromName(String name) {
            for (Kind k : values()) {
                if (k.hfName.equals(name)) {
                    return k;
                }
            }
            throw new IllegalArgumentException("unknown lr_scheduler_type '" + name + "'; valid: "
                    + Arrays.stream(values()).map(Kind::hfName).collect(Collectors.joining(", ")));
        }

        @Override
        public String toString() {
            return hfName;
        }
    }

    private final Kind kind;
    private final double peak;
    private final int totalSteps;
    private final int warmupSteps;

    /** A schedule reaching {@code peak} after {@code warmupSteps} and, for decaying kinds, 0 at {@code totalSteps}. */
    public LrSchedule(Kind kind, double peak, int totalSteps, int warmupSteps) {
        if (totalSteps < 1) {
            throw new IllegalArgumentException("total steps must be >= 1, got " + totalSteps);
        }
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("warmup steps must be >= 0, got " + warmupSteps);
        }
        this.kind = kind;
        this.peak = peak;
        this.totalSteps = totalSteps;
        // transformers' plain "constant" schedule takes no warmup argument at all.
        this.warmupSteps = kind == Kind.CONSTANT ? 0 : warmupSteps;
    }

    /** As the Trainer builds it from {@code warmup_steps}/{@code warmup_ratio}; see the class comment. */
    public static LrSchedule of(Kind kind, double peak, int totalSteps, double warmupSteps, double warmupRatio) {
        return new LrSchedule(kind, peak, totalSteps, warmupSteps(totalSteps, warmupSteps, warmupRatio));
    }

    /** The warmup length transformers' Trainer uses for this many total optimizer steps. */
    public static int warmupSteps(int totalSteps, double warmupSteps, double warmupRatio) {
        if (warmupSteps < 0 || warmupRatio < 0 || warmupRatio > 1) {
            throw new IllegalArgumentException("warmup_steps must be >= 0 and warmup_ratio in [0, 1]");
        }
        if (warmupSteps >= 1) {
            return (int) warmupSteps;
        }
        double ratio = warmupSteps > 0 ? warmupSteps : warmupRatio;
        return (int) Math.ceil(totalSteps * ratio);
    }

    /** The learning rate of optimizer step {@code step} (0-based). */
    public double lr(int step) {
        return peak * multiplier(step);
    }

    /** The factor on the peak rate: transformers' lr_lambda. */
    public double multiplier(int step) {
        if (step < warmupSteps) {
            return (double) step / Math.max(1, warmupSteps);
        }
        return switch (kind) {
            case CONSTANT, CONSTANT_WITH_WARMUP -> 1.0;
            case LINEAR -> Math.max(0.0, (double) (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
            case COSINE -> {
                // One half-wave (num_cycles = 0.5) from 1 at the end of warmup to 0 at totalSteps.
                double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
                yield Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * 0.5 * 2.0 * progress)));
            }
        };
    }

    public Kind kind() {
        return kind;
    }

    public int totalSteps() {
        return totalSteps;
    }

    public int warmupSteps() {
        return warmupSteps;
    }
}
