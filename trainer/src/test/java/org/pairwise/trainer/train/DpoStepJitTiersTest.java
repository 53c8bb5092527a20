package org.pairwise.trainer.train;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.model.engine.JitTiers;

/**
 * A DPO training run gives the same adapter and metrics, bit for bit, in a JVM held to the interpreter, in one held to
 * C1, in this JVM's first run and in a later one: what made resume-equality tests need warm-up runs is gone.
 */
class DpoStepJitTiersTest {
    @TempDir
    Path dir;

    @Test
    void theInterpreterAndC1TrainTheAdapterCompiledCodeTrains() throws Exception {
        List<JitTiers.Child> children = JitTiers.startBelowC2(DpoStepProbe.class, dir);
        Map<String, float[]> cold = DpoStepProbe.run(dir.resolve("cold"));
        Map<String, float[]> warm = cold;
        for (int run = 0; run < 8; run++) {
            warm = DpoStepProbe.run(dir.resolve("warm" + run));
            JitTiers.assertSameBits(cold, warm, "run " + run + " in this JVM");
        }
        for (JitTiers.Child child : children) {
            JitTiers.assertSameBits(warm, child.result(), String.join(" ", child.flags()));
        }
    }
}
