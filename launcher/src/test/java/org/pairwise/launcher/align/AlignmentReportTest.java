package org.pairwise.launcher.align;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.loadtest.rules.Choice;
import org.pairwise.loadtest.rules.WordRule;
import org.pairwise.launcher.align.AlignmentExperiment.Checkpoint;
import org.pairwise.launcher.align.AlignmentExperiment.Result;
import org.pairwise.launcher.align.AlignmentExperiment.Step;

/** The report renders what a run measured; the runs themselves are AlignmentProofTest's. */
class AlignmentReportTest {
    @TempDir
    Path dir;

    /** A run over hand-made samples: {@code withWord} of 10 contain the word, lengths from {@code len}. */
    private static PolicyProbe.Measurement measurement(int withWord, int len, double kl) {
        List<PolicyProbe.Sample> s = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            String text = (i < withWord ? "a big dog " : "a small dog ") + "x".repeat(len + i % 3);
            s.add(new PolicyProbe.Sample(i % 2, text, 8, false, -10 + kl, -10));
        }
        return PolicyProbe.summarise(s, WordRule.contains("big")::matches, 0.5);
    }

    private static Result result() {
        List<Checkpoint> cps = List.of(
                new Checkpoint(0, 0, 0, 1.0, measurement(2, 40, 0), Map.of()),
                new Checkpoint(100, 12, 12, 9.0, measurement(9, 30, 2.5),
                        Map.of("rewards/margins", 0.12, "rewards/accuracies", 0.6, "loss", 0.68)));
        List<Step> steps = List.of(new Step(1, 8, Map.of("rewards/margins", 0.01, "rewards/accuracies", 0.5)),
                new Step(2, 16, Map.of("rewards/margins", 0.2, "rewards/accuracies", 0.75)));
        return new Result("contains:big", "big", 100, Map.of(Choice.A, 55, Choice.B, 45), 9.5, false, cps, steps,
                null);
    }

    /** The leaderboard a battle evaluation of those checkpoints' versions answered (the shape of GET /api/leaderboard). */
    private static JsonObject board() {
        return new JsonObject("""
                {"method": "newton", "counted_votes": 40, "standings": [
                  {"policy_version": 12, "rating": 1123.4, "low": 1050.2, "high": 1201.9, "battles": 40},
                  {"policy_version": 0, "rating": 1000.0, "low": 1000.0, "high": 1000.0, "battles": 40}],
                 "vs_reference": [{"policy_version": 12, "wins": 27, "losses": 11, "ties": 2, "win_rate": 0.7,
                  "low": 0.55, "high": 0.82}]}""");
    }

    @Test
    void theHtmlPageIsSelfContainedAndCarriesTheCurves() throws Exception {
        Path file = dir.resolve("a.html");
        AlignmentReport.writeHtml(List.of(result()), file);
        String html = Files.readString(file);
        assertTrue(html.contains("uPlot"), "uPlot should be inlined");
        assertFalse(html.contains("src=\"http"), "the page must fetch nothing");
        assertTrue(html.contains("id=\"run0-rate\"") && html.contains("id=\"run0-kl\"")
                && html.contains("id=\"run0-rewards\"") && html.contains("id=\"run0-length\""));
        assertTrue(html.contains("0.200 [") && html.contains("0.900 ["), "before/after rates in the table");
        assertFalse(html.contains("id=\"run0-strength\""), "no leaderboard, no strength chart");
        // Three script elements (uPlot, data and drawing code in one, closing tags balanced).
        assertEquals(html.split("<script>", -1).length - 1, html.split("</script>", -1).length - 1);
    }

    @Test
    void aBattleEvaluationAddsEachCheckpointsStrengthToTheTableTheChartAndTheJson() throws Exception {
        Result r = result().withLeaderboard(board());
        String html = AlignmentReport.html(List.of(r));
        assertTrue(html.contains("id=\"run0-strength\""), "the strength chart");
        assertTrue(html.contains("<td class=n>1123 [1050, 1202] (40)</td>"), "v12's strength in the table");
        assertTrue(html.contains("<td class=n>1000 [1000, 1000] (40)</td>"), "v0's, the anchor");
        assertTrue(html.contains("v12 against v0: win rate 0.700 [0.550, 0.820] (27-11, 2 ties)"), html);
        JsonObject cp = AlignmentReport.json(r).getJsonArray("checkpoints").getJsonObject(1);
        assertEquals(1123.4, cp.getJsonObject("strength").getDouble("rating"), 1e-12);
        assertEquals(1050.2, cp.getJsonObject("strength").getDouble("ci95_low"), 1e-12);
        assertEquals(40, cp.getJsonObject("strength").getInteger("battles"));
        assertEquals(40, AlignmentReport.json(r).getJsonObject("leaderboard").getInteger("counted_votes"));
    }

    @Test
    void theJsonHasRatesIntervalsKlAndTrainerMetricsPerCheckpoint() throws Exception {
        Path file = dir.resolve("a.json");
        AlignmentReport.writeJson(List.of(result()), file);
        JsonObject run = new JsonObject(Files.readString(file)).getJsonArray("alignment").getJsonObject(0);
        assertEquals("contains:big", run.getString("rule"));
        assertEquals(55, run.getJsonObject("choices").getInteger("a"));
        JsonObject last = run.getJsonArray("checkpoints").getJsonObject(1);
        assertEquals(0.9, last.getJsonObject("word_rate").getDouble("rate"), 1e-12);
        assertTrue(last.getJsonObject("word_rate").getDouble("ci95_low") < 0.9);
        assertEquals(2.5, last.getJsonObject("kl").getDouble("mean"), 1e-9);
        assertEquals(0.12, last.getJsonObject("trainer").getDouble("rewards/margins"), 1e-12);
        assertEquals(16, run.getJsonArray("steps").getJsonObject(1).getInteger("votes"));
        assertTrue(run.getJsonObject("verdict").getBoolean("word_rate_at_least_doubled"));
        assertTrue(run.getJsonObject("verdict").getBoolean("length_fell"));
    }
}
