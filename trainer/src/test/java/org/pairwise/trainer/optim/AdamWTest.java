package org.pairwise.trainer.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.pairwise.accel.Tensor;
import org.pairwise.accel.cpu.CpuBackend;

class AdamWTest {
    @Test
    void clipsToMaxGradNormThenStepsLikeTorch() {
        try (CpuBackend be = new CpuBackend(1)) {
            Tensor p = be.upload(new float[] {1f, -2f}), g = be.upload(new float[] {3f, 4f});
            AdamW opt = new AdamW(be, List.of(p), List.of(g), 0.9, 0.999, 1e-8, 0.0, 1.0);
            AdamW.StepResult r = opt.step(0.1);
            assertTrue(r.applied());
            assertEquals(5.0, r.gradNorm(), 1e-9, "the norm before clipping, as transformers logs grad_norm");
            // Clipped gradient (0.6, 0.8); Adam's first step moves each parameter by lr * sign(g).
            assertArrayEquals(new float[] {0.6f / 5.000001f * 5, 0.8f / 5.000001f * 5}, be.download(g), 1e-5f);
            assertArrayEquals(new float[] {0.9f, -2.1f}, be.download(p), 1e-5f);
            assertEquals(1, opt.steps());
        }
    }

    @Test
    void nonFiniteGradientsSkipTheStepAndLeaveTheWeightsAlone() {
        try (CpuBackend be = new CpuBackend(1)) {
            Tensor p = be.upload(new float[] {1f, 2f}), g = be.upload(new float[] {Float.NaN, 1f});
            AdamW opt = new AdamW(be, List.of(p), List.of(g), 0.9, 0.999, 1e-8, 0.01, 1.0);
            AdamW.StepResult r = opt.step(0.1);
            assertFalse(r.applied());
            assertTrue(Double.isNaN(r.gradNorm()));
            assertArrayEquals(new float[] {1f, 2f}, be.download(p));
            assertArrayEquals(new float[] {0f, 0f}, be.download(opt.firstMoments().getFirst()));
            assertEquals(0, opt.steps());
            assertEquals(1, opt.skippedSteps());
            be.upload(g, 0, new float[] {Float.POSITIVE_INFINITY, 0f}, 0, 2);
            assertFalse(opt.step(0.1).applied());
            assertEquals(2, opt.skippedSteps());
        }
    }
}
