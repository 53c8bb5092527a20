package org.pairwise.model.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SamplerTest {
    // probabilities 0.4, 0.3, 0.2, 0.1 at temperature 1
    static final float[] LOGITS = {(float) Math.log(0.2), (float) Math.log(0.4), (float) Math.log(0.1),
            (float) Math.log(0.3)};

    static double[] frequencies(SamplingParams p, int draws) {
        Sampler s = new Sampler(p);
        double[] f = new double[LOGITS.length];
        for (int i = 0; i < draws; i++) {
            f[s.sample(LOGITS, 0, LOGITS.length)] += 1.0 / draws;
        }
        return f;
    }

    @Test
    void temperatureOneSamplesTheSoftmax() {
        double[] f = frequencies(new SamplingParams(1, 1, 1, 0, 1), 200_000);
        double[] expected = {0.2, 0.4, 0.1, 0.3};
        for (int i = 0; i < 4; i++) {
            assertEquals(expected[i], f[i], 0.006, "token " + i);
        }
    }

    @Test
    void topPKeepsTheSmallestNucleusReachingP() {
        // 0.4 + 0.3 = 0.7 >= 0.65: only tokens 1 and 3 remain, renormalised to 4/7 and 3/7.
        double[] f = frequencies(new SamplingParams(1, 1, 0.65, 0, 2), 100_000);
        assertEquals(0, f[0]);
        assertEquals(0, f[2]);
        assertEquals(4.0 / 7, f[1], 0.008);
        assertEquals(3.0 / 7, f[3], 0.008);
    }

    @Test
    void topKThenTemperatureSharpens() {
        // top-2 of {0.4, 0.3} at temperature 0.5: weights 0.16 and 0.09.
        double[] f = frequencies(new SamplingParams(1, 0.5, 1, 2, 3), 100_000);
        assertEquals(0, f[0] + f[2]);
        assertEquals(0.16 / 0.25, f[1], 0.008);
    }

    @Test
    void greedyIsArgmaxAndLogprobIsLogSoftmax() {
        assertEquals(1, new Sampler(SamplingParams.greedy(1)).sample(LOGITS, 0, 4));
        assertEquals(Math.log(0.3), Sampler.logprob(LOGITS, 0, 4, 3), 1e-6);
    }

    @Test
    void invalidSettingsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1, -1, 1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1, 1, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(-1, 1, 1, 0, 0));
    }
}
