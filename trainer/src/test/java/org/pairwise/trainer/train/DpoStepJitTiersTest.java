package org.pairwise.trainer.train;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.model.engine.JitTiers;

/**
 * A DPO training run gives the same adapter and metrics, bit for bit, in a JVM held to the interpreter, in one held to
 * C1, in one whose kernels C2 has compiled and in this JVM's first run: what made resume-equality tests need warm-up
 * runs is gone.
 */
class DpoStepJitTiersTest {
    @TempDir
    Path dir;

    @Test
    void theInterpreterC1AndC2TrainTheSameAdapter() throws Exception {
        JitTiers.assertEveryTierAgrees(DpoStepProbe.class, DpoStepProbe::run, dir);
    }
}
