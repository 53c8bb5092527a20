package org.pairwise.trainer.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Schedule values at chosen steps against transformers' lr_lambda worked out by hand (peak 2.0 for round numbers). */
class LrScheduleTest {
    private static final double TOL = 1e-12;

    @Test
    void linearWithWarmupRatio() {
        LrSchedule s = LrSchedule.of(LrSchedule.Kind.LINEAR, 2.0, 100, 0, 0.1);
        assertEquals(10, s.warmupSteps());  // ceil(100 · 0.1)
        assertEquals(0.0, s.lr(0), TOL);  // the first update has rate 0, as transformers
        assertEquals(1.0, s.lr(5), TOL);  // 5/10 of the peak
        assertEquals(2.0, s.lr(10), TOL);
        assertEquals(1.0, s.lr(55), TOL);  // (100 − 55)/(100 − 10) = 0.5
        assertEquals(2.0 * 10 / 90, s.lr(90), TOL);
        assertEquals(0.0, s.lr(100), TOL);
        assertEquals(0.0, s.lr(120), TOL);  // clamped at 0
    }

    @Test
    void cosineHalfWaveToZero() {
        LrSchedule s = LrSchedule.of(LrSchedule.Kind.COSINE, 2.0, 100, 0, 0.1);
        assertEquals(1.0, s.lr(5), TOL);
        assertEquals(2.0, s.lr(10), TOL);
        assertEquals(1.5, s.lr(40), TOL);  // progress 30/90: ½(1 + cos(π/3)) = 0.75
        assertEquals(1.0, s.lr(55), TOL);  // progress ½: ½(1 + cos(π/2)) = 0.5
        assertEquals(0.0, s.lr(100), TOL);
    }

    @Test
    void constantIgnoresWarmupButConstantWithWarmupDoesNot() {
        LrSchedule c = LrSchedule.of(LrSchedule.Kind.CONSTANT, 2.0, 100, 10, 0);
        assertEquals(2.0, c.lr(0), TOL);
        assertEquals(2.0, c.lr(99), TOL);
        LrSchedule w = LrSchedule.of(LrSchedule.Kind.CONSTANT_WITH_WARMUP, 2.0, 100, 10, 0);
        assertEquals(1.0, w.lr(5), TOL);
        assertEquals(2.0, w.lr(50), TOL);
        assertEquals(2.0, w.lr(100), TOL);
    }

    @Test
    void warmupLengthRules() {
        assertEquals(7, LrSchedule.warmupSteps(100, 7, 0.5));  // warmup_steps wins over the ratio
        assertEquals(10, LrSchedule.warmupSteps(95, 0, 0.1));  // ceil(9.5)
        assertEquals(5, LrSchedule.warmupSteps(100, 0.05, 0));  // transformers 5: a fraction in warmup_steps
        assertEquals(4, LrSchedule.warmupSteps(33, 0.1, 0));  // ceil(3.3)
        assertEquals(0, LrSchedule.warmupSteps(100, 0, 0));
    }

    @Test
    void noWarmupLinearStartsAtPeak() {
        LrSchedule s = new LrSchedule(LrSchedule.Kind.LINEAR, 2.0, 4, 0);
        assertEquals(2.0, s.lr(0), TOL);
        assertEquals(1.5, s.lr(1), TOL);  // (4 − 1)/4
        assertEquals(0.5, s.lr(3), TOL);
    }
}
