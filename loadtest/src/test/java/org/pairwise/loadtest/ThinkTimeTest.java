package org.pairwise.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ThinkTimeTest {

    @Test
    void durationsReadTheUsualUnits() {
        assertEquals(Duration.ZERO, Durations.parse("0", "x"));
        assertEquals(Duration.ofMillis(200), Durations.parse("200ms", "x"));
        assertEquals(Duration.ofMillis(1500), Durations.parse("1.5s", "x"));
        assertEquals(Duration.ofMinutes(2), Durations.parse("2m", "x"));
        assertEquals(Duration.ofNanos(250_000), Durations.parse("250us", "x"));
        assertEquals("1.5s", Durations.format(Duration.ofMillis(1500)));
        assertEquals("2m", Durations.format(Duration.ofMinutes(2)));
        var e = assertThrows(IllegalArgumentException.class, () -> Durations.parse("60", "duration"));
        assertTrue(e.getMessage().startsWith("duration: '60' is not a duration"), e.getMessage());
    }

    @Test
    void fixedUniformAndExponentialParseAndSampleInRange() {
        SplittableRandom rng = new SplittableRandom(1);
        assertEquals(200_000_000L, ThinkTime.parse("200ms").sampleNanos(rng));
        assertEquals(0L, ThinkTime.parse("0").sampleNanos(rng));

        ThinkTime u = ThinkTime.parse("uniform:100ms..2s");
        assertInstanceOf(ThinkTime.Uniform.class, u);
        double sum = 0;
        for (int i = 0; i < 20_000; i++) {
            long v = u.sampleNanos(rng);
            assertTrue(v >= 100_000_000L && v <= 2_000_000_000L, "out of range: " + v);
            sum += v;
        }
        assertEquals(1.05e9, sum / 20_000, 0.02e9);

        ThinkTime x = ThinkTime.parse("exp:500ms");
        sum = 0;
        for (int i = 0; i < 50_000; i++) {
            long v = x.sampleNanos(rng);
            assertTrue(v >= 0);
            sum += v;
        }
        assertEquals(5e8, sum / 50_000, 0.1e8);  // the mean, within ~4 standard errors
        assertEquals("uniform:100ms..2s", u.spec());
        assertEquals("exp:500ms", x.spec());
    }

    @Test
    void malformedThinkTimesNameTheProblem() {
        for (String bad : new String[] {"soon", "uniform:2s..1s", "uniform:1s", "exp:0", "gauss:1s", "5"}) {
            var e = assertThrows(IllegalArgumentException.class, () -> ThinkTime.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("think time: "), e.getMessage());
        }
    }
}
