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
    void noSharePromptComputesEachSequenceWholeToTheSameLoss() throws Exception {
        JsonNode shared = dpoBench(), whole = dpoBench("--no-share-prompt");
        assertTrue(shared.get("share_prompt").asBoolean(), shared.toString());
        assertEquals(false, whole.get("share_prompt").asBoolean(), whole.toString());
        // the same pairs after the same warm-up step
        assertEquals(whole.get("loss").asDouble(), shared.get("loss").asDouble(), 1e-6);
    }

    private static JsonNode dpoBench(String... extra) throws Exception {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("bench", "--dpo", "--shape", "small",
                "--pairs", "2", "--prompt-length", "7", "--completion-length", "3", "--warmup", "1", "--repeats", "1",
                "--lora-r", "4", "--lora-alpha", "8", "--threads", "2", "--no-breakdown"));
        args.addAll(java.util.List.of(extra));
        CliTest.Result r = CliTest.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        return Json.MAPPER.readTree(r.out().strip());
    }

    @Test
    void aFractionalLoraAlphaIsRefusedInOneLine() {
        CliTest.assertOneLineError(CliTest.run("bench", "--dpo", "--lora-alpha", "16.5"),
                "--lora-alpha must be a whole number");
    }
}
