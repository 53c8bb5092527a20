package org.pairwise.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/** {@code bench --dpo} runs the trainer's own session on a random model and reports one JSON line. */
class BenchDpoTest {
    @Test
    void timedDpoStepsStartAtTheReferenceAndSplitTheirTime() throws Exception {
        CliTest.Result r = CliTest.run("bench", "--dpo", "--shape", "small", "--pairs", "1", "--prompt-length", "6",
                "--completion-length", "5", "--warmup", "0", "--repeats", "1", "--lora-r", "4", "--lora-alpha", "8",
                "--threads", "2");
        assertEquals(0, r.code(), r.err());
        JsonNode json = Json.MAPPER.readTree(r.out().strip());
        // One step, and its loss is taken before the update: a fresh adapter (B = 0) is the reference, so log 2.
        assertEquals(Math.log(2), json.get("loss").asDouble(), 1e-4);
        assertEquals(2, json.get("sequences").asInt());
        for (String k : new String[] {"step_s_best", "reference_forward_s", "optimizer_s", "policy_forward_s"}) {
            assertTrue(json.get(k).asDouble() > 0, k + " in " + json);
        }
        assertTrue(json.get("step_s_best").asDouble() >= json.get("reference_forward_s").asDouble(), json.toString());
    }

    @Test
    void aFractionalLoraAlphaIsRefusedInOneLine() {
        CliTest.assertOneLineError(CliTest.run("bench", "--dpo", "--lora-alpha", "16.5"),
                "--lora-alpha must be a whole number");
    }
}
