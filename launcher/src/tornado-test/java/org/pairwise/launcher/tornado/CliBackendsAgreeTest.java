package org.pairwise.launcher.tornado;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.model.SharedModels;
import org.pairwise.launcher.Main;

/**
 * {@code pairwise train} and {@code pairwise score} on stories260K give the same numbers with {@code --backend
 * tornadovm} (PoCL's CPU device here) as with {@code --backend cpu}: the same command lines, in-process through
 * {@link Main#run}, and every numeric field of metrics.jsonl and scores.jsonl compared. Skipped when the shared model
 * is absent.
 *
 * <p>Tolerances (observed worst on PoCL: 1.3e-6 for the train metrics, 2.4e-6 for the scores, relative). Scoring is
 * one forward per sequence in float32 on both backends, differing only in summation order: sequence log-probs
 * (magnitudes 10-40) agree to ~1e-6 relative, so every score field must satisfy |a - b| <= 1e-4 * (1 + |a|) (rewards and
 * the loss are beta-scaled differences of those). Training runs four AdamW steps from the same seed; AdamW's early
 * updates are ~lr * sign(g), which can amplify a float32 difference in a near-zero gradient element, so the metrics get
 * twice that: |a - b| <= 2e-4 * (1 + |a|), still far below what a wrong kernel moves them (the margins move by more
 * than 0.1 over these steps, asserted). Counts (step, num_tokens, token counts) and the schedule (learning_rate, epoch)
 * must be equal. rewards/accuracies is compared exactly except on a line where the policy still equals the reference
 * (first step: B starts at zero), where every reward is float32 noise around 0 and r_w > r_l is a coin toss.
 */
class CliBackendsAgreeTest {
    static final ObjectMapper JSON = new ObjectMapper();
    // Token ids (stories260K's vocabulary is 512), every pair of the same lengths: each micro-batch then has the same
    // shape, so the tornadovm backend builds its graphs once instead of once per padded length (PoCL compiles slowly).
    static final String DATA = """
            [{"prompt_input_ids":[1,403,407,261],"chosen_input_ids":[378,300,291,2],"rejected_input_ids":[432,2]},
             {"prompt_input_ids":[1,88,19,350],"chosen_input_ids":[261,378,44,2],"rejected_input_ids":[90,477,2]},
             {"prompt_input_ids":[1,310,12,99],"chosen_input_ids":[70,71,72,2],"rejected_input_ids":[13,2]},
             {"prompt_input_ids":[1,5,406,61],"chosen_input_ids":[402,18,260,2],"rejected_input_ids":[261,261,2]}]
            """;
    static final List<String> EXACT = List.of("step", "num_tokens", "learning_rate", "epoch", "line", "prompt_tokens",
            "chosen_tokens", "rejected_tokens");

    @TempDir
    Path tmp;

    @Test
    void trainAndScoreGiveTheSameNumbersOnCpuAndTornadovm() throws Exception {
        String model = SharedModels.require("stories260K/stories260K.gguf").toString();
        Path data = Files.writeString(tmp.resolve("pairs.json"), DATA);
        for (String be : List.of("cpu", "tornadovm")) {
            long t0 = System.nanoTime();
            run("train", "--backend", be, "--model", model, "--data", data.toString(), "--output-dir",
                    tmp.resolve("train-" + be).toString(), "--per-device-train-batch-size", "2",
                    "--gradient-accumulation-steps", "1", "--max-steps", "4", "--logging-steps", "1",
                    "--save-steps", "1000", "--learning-rate", "0.002", "--beta", "0.2", "--lora-r", "4",
                    "--lora-alpha", "8", "--seed", "7", "--gradient-checkpointing=false");
            long t1 = System.nanoTime();
            // both backends score with the adapter the cpu run trained, against the base model as reference
            run("score", "--backend", be, "--model", model, "--adapter", tmp.resolve("train-cpu").toString(), "--data",
                    data.toString(), "--beta", "0.2", "--out", tmp.resolve("scores-" + be + ".jsonl").toString());
            System.out.printf("%s: train %.1f s, score %.1f s%n", be, (t1 - t0) / 1e9, (System.nanoTime() - t1) / 1e9);
        }
        List<String> trainCpu = Files.readAllLines(tmp.resolve("train-cpu/metrics.jsonl"));
        List<String> trainTvm = Files.readAllLines(tmp.resolve("train-tornadovm/metrics.jsonl"));
        assertEquals(4, trainCpu.size(), "one metrics line per step");
        assertTrue(!atReference(JSON.readTree(trainCpu.get(1))), "only the first step starts at the reference");
        double worstTrain = compare(trainCpu, trainTvm, 2e-4);
        JsonNode first = JSON.readTree(trainCpu.getFirst()), last = JSON.readTree(trainCpu.getLast());
        assertTrue(last.get("rewards/margins").asDouble() - first.get("rewards/margins").asDouble() > 0.1,
                "training moves the margins well beyond the tolerance: " + first + " -> " + last);
        List<String> scoresCpu = Files.readAllLines(tmp.resolve("scores-cpu.jsonl"));
        List<String> scoresTvm = Files.readAllLines(tmp.resolve("scores-tornadovm.jsonl"));
        assertEquals(4, scoresCpu.size(), "one score line per pair");
        double worstScore = compare(scoresCpu, scoresTvm, 1e-4);
        System.out.printf("worst relative difference: train metrics %.2e, scores %.2e%n", worstTrain, worstScore);
    }

    static void run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        assertEquals(0, code, String.join(" ", args) + "\n" + out + err);
    }

    static boolean atReference(JsonNode line) {
        return Math.abs(line.get("rewards/chosen").asDouble()) < 1e-5
                && Math.abs(line.get("rewards/rejected").asDouble()) < 1e-5;
    }

    /** Every field of every line: counts and schedule equal, other numbers within rel * (1 + |a|); the worst ratio. */
    static double compare(List<String> want, List<String> got, double rel) throws Exception {
        assertEquals(want.size(), got.size(), "line count");
        double worst = 0;
        for (int i = 0; i < want.size(); i++) {
            JsonNode a = JSON.readTree(want.get(i)), b = JSON.readTree(got.get(i));
            List<String> keys = new ArrayList<>();
            a.fieldNames().forEachRemaining(keys::add);
            List<String> otherKeys = new ArrayList<>();
            b.fieldNames().forEachRemaining(otherKeys::add);
            assertEquals(keys, otherKeys, "fields of line " + (i + 1));
            for (Iterator<Map.Entry<String, JsonNode>> it = a.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode x = e.getValue(), y = b.get(e.getKey());
                String where = "line " + (i + 1) + " " + e.getKey();
                if (!x.isNumber()) {
                    assertEquals(x, y, where);
                } else if (e.getKey().endsWith("rewards/accuracies") && atReference(a)) {
                    // while the policy still equals the reference (the adapter's B starts at zero) every reward is
                    // float32 noise around 0 and r_w > r_l is a coin toss on either backend: not compared
                    assertTrue(y.isNumber(), where);
                } else if (EXACT.contains(e.getKey())) {
                    assertEquals(x.asDouble(), y.asDouble(), 0.0, where);
                } else {
                    double d = Math.abs(x.asDouble() - y.asDouble()) / (1 + Math.abs(x.asDouble()));
                    worst = Math.max(worst, d);
                    assertTrue(d <= rel, where + ": cpu " + x + ", tornadovm " + y);
                }
            }
        }
        return worst;
    }
}
