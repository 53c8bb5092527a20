package org.pairwise.model.engine;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cpu kernels give the same bits in every JIT tier: the forward, log-probs, LoRA gradients, sampled pairs and
 * kernel outputs of {@link ForwardProbe} computed by a JVM held to the interpreter, by one held to C1 (both run the
 * Vector API's Java fallback) and by one whose kernels C2 has compiled (its intrinsics) equal those of this JVM's
 * first, cold run.
 */
class JitTiersTest {
    @TempDir
    Path dir;

    @Test
    void theInterpreterC1AndC2GiveTheSameBits() throws Exception {
        JitTiers.assertEveryTierAgrees(ForwardProbe.class, ForwardProbe::run, dir);
    }
}
