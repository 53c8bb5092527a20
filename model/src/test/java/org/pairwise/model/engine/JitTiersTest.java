package org.pairwise.model.engine;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cpu kernels give the same bits in every JIT tier: the forward, log-probs, LoRA gradients and sampled pairs of
 * {@link ForwardProbe} computed by a JVM held to the interpreter, and by one held to C1 (both run the Vector API's
 * Java fallback), equal those this JVM computes, first while it is cold and then once C2 has compiled the kernels.
 */
class JitTiersTest {
    @TempDir
    Path dir;

    @Test
    void theInterpreterAndC1GiveTheBitsCompiledCodeGives() throws Exception {
        List<JitTiers.Child> children = JitTiers.startBelowC2(ForwardProbe.class, dir);
        Map<String, float[]> cold = ForwardProbe.run(dir.resolve("cold"));
        Map<String, float[]> warm = cold;
        for (int run = 0; run < 10; run++) {
            warm = ForwardProbe.run(dir.resolve("warm" + run));
            JitTiers.assertSameBits(cold, warm, "run " + run + " in this JVM");
        }
        for (JitTiers.Child child : children) {
            JitTiers.assertSameBits(warm, child.result(), String.join(" ", child.flags()));
        }
    }
}
