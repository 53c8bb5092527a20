package org.pairwise.launcher.align;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.pairwise.launcher.align.AlignmentExperiment.Checkpoint;
import org.pairwise.launcher.align.AlignmentExperiment.Result;
import org.pairwise.launcher.align.AlignmentExperiment.Step;

/**
 * Alignment runs as JSON and as one self-contained HTML page: per run, a before/after table and uPlot charts against
 * votes of the tracked word's rate (with its 95% interval), the mean length, the KL estimate, and the trainer's
 * {@code rewards/margins} and {@code rewards/accuracies}. uPlot is inlined from its webjar, so the page fetches
 * nothing.
 */
public final class AlignmentReport {
    private static final String UPLOT = "META-INF/resources/webjars/uplot/1.6.30/dist/";

    private AlignmentReport() {}

    public static void writeHtml(List<Result> results, Path file) throws IOException {
        Files.writeString(file, html(results));
    }

    public static void writeJson(List<Result> results, Path file) throws IOException {
        JsonArray runs = new JsonArray();
        results.forEach(r -> runs.add(json(r)));
        Files.writeString(file, new JsonObject().put("alignment", runs).encodePrettily());
    }

    /** One run: settings, checkpoints (measurements with intervals), the trainer's steps, and the verdicts. */
    public static JsonObject json(Result r) {
        JsonArray cps = new JsonArray();
        for (Checkpoint c : r.checkpoints()) {
            PolicyProbe.Measurement m = c.measurement();
            JsonObject o = new JsonObject().put("votes", c.votes()).put("policy_version", c.policyVersion())
                    .put("trainer_steps", c.trainerSteps()).put("seconds", c.seconds()).put("samples", m.samples())
                    .put("mean_chars", mean(m.chars())).put("mean_tokens", mean(m.tokens())).put("kl", mean(m.kl()))
                    .put("ref_logprob", mean(m.refLogprob())).put("measure_seconds", m.seconds())
                    .put("trainer", new JsonObject(new java.util.LinkedHashMap<String, Object>(c.trainer())));
            if (m.wordRate() != null) {
                Stats.Proportion p = m.wordRate();
                o.put("word_rate", new JsonObject().put("with_word", p.successes()).put("n", p.n())
                        .put("rate", p.rate()).put("ci95_low", p.low()).put("ci95_high", p.high()));
            }
            JsonObject standing = r.standing(c.policyVersion());
            if (standing != null) {
                o.put("strength", new JsonObject().put("rating", standing.getDouble("rating"))
                        .put("ci95_low", standing.getDouble("low")).put("ci95_high", standing.getDouble("high"))
                        .put("battles", standing.getInteger("battles")));
            }
            cps.add(o);
        }
        JsonArray steps = new JsonArray();
        for (Step s : r.steps()) {
            steps.add(new JsonObject().put("step", s.step()).put("votes", s.votes())
                    .put("metrics", new JsonObject(new java.util.LinkedHashMap<String, Object>(s.metrics()))));
        }
        JsonObject choices = new JsonObject();
        r.choices().forEach((k, v) -> choices.put(k.wireName(), v));
        JsonObject verdict = new JsonObject().put("length_fell", r.lengthFell())
                .put("length_welch_t", r.lengthWelchT());
        if (r.word() != null) {
            verdict.put("word_rate_at_least_doubled", r.wordRateAtLeastDoubled());
        }
        return new JsonObject().put("rule", r.rule()).put("word", r.word()).put("votes", r.votesCast())
                .put("choices", choices).put("seconds", r.seconds()).put("timed_out", r.timedOut())
                .put("verdict", verdict).put("checkpoints", cps).put("steps", steps)
                .put("leaderboard", r.leaderboard());
    }

    private static JsonObject mean(Stats.Mean m) {
        return new JsonObject().put("mean", m.mean()).put("sd", m.sd()).put("ci95_low", m.low())
                .put("ci95_high", m.high()).put("n", m.n());
    }

    public static String html(List<Result> results) {
        StringBuilder b = new StringBuilder(80_000);
        b.append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n")
                .append("<title>pairwise alignment</title>\n<style>\n").append(resource(UPLOT + "uPlot.min.css"))
                .append("\n").append(CSS).append("</style>\n<script>\n").append(resource(UPLOT + "uPlot.iife.min.js"))
                .append("\n</script>\n</head><body>\n<h1>pairwise: online alignment</h1>\n")
                .append("<p>Simulated annotators vote by a rule; at each checkpoint the trainer is caught up and paused, "
                        + "and the served policy is measured on fresh samples (same prompts, seeds and sampling "
                        + "settings every time). Intervals are 95% (Wilson for rates, normal for means). KL is the "
                        + "mean of log&nbsp;&pi;(y)&nbsp;&minus;&nbsp;log&nbsp;&pi;<sub>ref</sub>(y) over the "
                        + "policy's own samples, in nats per response.</p>\n");
        for (int i = 0; i < results.size(); i++) {
            run(b, results.get(i), i);
        }
        JsonArray data = new JsonArray();
        results.forEach(r -> data.add(json(r)));
        // "</" inside a script element would end it early; "<\/" is the same string to JavaScript.
        b.append("<script>\nconst RUNS = ").append(data.encode().replace("</", "<\\/")).append(";\n").append(JS)
                .append("</script>\n</body></html>\n");
        return b.toString();
    }

    private static void run(StringBuilder b, Result r, int i) {
        Checkpoint first = r.first(), last = r.last();
        PolicyProbe.Measurement m0 = first.measurement(), m1 = last.measurement();
        b.append("<section><h2>rule <code>").append(esc(r.rule())).append("</code>");
        if (r.word() != null) {
            b.append(" &middot; tracked word <code>").append(esc(r.word())).append("</code>");
        }
        b.append("</h2>\n<p>").append(r.votesCast()).append(" votes ").append(esc(r.choices().toString()))
                .append(" in ").append(fmt(r.seconds(), 1)).append(" s").append(r.timedOut() ? " (time limit)" : "")
                .append("; policy version ").append(first.policyVersion()).append(" &rarr; ")
                .append(last.policyVersion()).append(", ").append(last.trainerSteps() - first.trainerSteps())
                .append(" DPO steps.</p>\n<table><tr><th></th><th>before</th><th>after</th></tr>\n");
        if (m0.wordRate() != null) {
            b.append("<tr><th>stories with &ldquo;").append(esc(r.word())).append("&rdquo;</th><td>")
                    .append(rate(m0.wordRate())).append("</td><td>").append(rate(m1.wordRate())).append("</td></tr>\n");
        }
        b.append("<tr><th>mean length (chars)</th><td>").append(meanCi(m0.chars())).append("</td><td>")
                .append(meanCi(m1.chars())).append("</td></tr>\n")
                .append("<tr><th>mean length (tokens)</th><td>").append(fmt(m0.tokens().mean(), 1))
                .append("</td><td>").append(fmt(m1.tokens().mean(), 1)).append("</td></tr>\n")
                .append("<tr><th>KL(&pi;&Vert;&pi;<sub>ref</sub>) estimate</th><td>").append(meanCi(m0.kl()))
                .append("</td><td>").append(meanCi(m1.kl())).append("</td></tr>\n")
                .append("<tr><th>mean log &pi;<sub>ref</sub>(y)</th><td>").append(meanCi(m0.refLogprob()))
                .append("</td><td>").append(meanCi(m1.refLogprob())).append("</td></tr>\n")
                .append("<tr><th>samples</th><td>").append(m0.samples()).append("</td><td>").append(m1.samples())
                .append("</td></tr>\n</table>\n<p>");
        if (r.word() != null) {
            b.append("Rate at least doubled with disjoint 95% intervals: <b>")
                    .append(r.wordRateAtLeastDoubled() ? "yes" : "no").append("</b>. ");
        }
        b.append("Length fell with disjoint 95% intervals: <b>").append(r.lengthFell() ? "yes" : "no")
                .append("</b> (Welch t = ").append(fmt(r.lengthWelchT(), 2)).append(").</p>\n");
        if (r.leaderboard() != null) {
            leaderboard(b, r);
        }
        b.append("<div class=charts>");
        for (String chart : List.of("rate", "length", "kl", "strength", "rewards")) {
            boolean shown = switch (chart) {
                case "rate" -> r.word() != null;
                case "strength" -> r.leaderboard() != null;
                default -> true;
            };
            if (shown) {
                b.append("<div id=\"run").append(i).append('-').append(chart).append("\"></div>");
            }
        }
        b.append("</div>\n<table><tr><th>votes</th><th>version</th><th>steps</th><th>s</th>")
                .append(r.word() != null ? "<th>rate (95% CI)</th>" : "")
                .append("<th>chars</th><th>KL</th>")
                .append(r.leaderboard() != null ? "<th>strength (95% CI, battles)</th>" : "")
                .append("<th>rewards/margins</th><th>rewards/accuracies</th><th>loss</th></tr>\n");
        for (Checkpoint c : r.checkpoints()) {
            PolicyProbe.Measurement m = c.measurement();
            b.append("<tr><td class=n>").append(c.votes()).append("</td><td class=n>").append(c.policyVersion())
                    .append("</td><td class=n>").append(c.trainerSteps()).append("</td><td class=n>")
                    .append(fmt(c.seconds(), 1)).append("</td>");
            if (m.wordRate() != null) {
                b.append("<td class=n>").append(rate(m.wordRate())).append("</td>");
            }
            b.append("<td class=n>").append(fmt(m.chars().mean(), 1)).append("</td><td class=n>")
                    .append(fmt(m.kl().mean(), 2)).append("</td>");
            if (r.leaderboard() != null) {
                JsonObject st = r.standing(c.policyVersion());
                b.append("<td class=n>").append(st == null ? "" : fmt(st.getDouble("rating"), 0) + " ["
                        + fmt(st.getDouble("low"), 0) + ", " + fmt(st.getDouble("high"), 0) + "] ("
                        + st.getInteger("battles") + ")").append("</td>");
            }
            for (String k : List.of("rewards/margins", "rewards/accuracies", "loss")) {
                Double v = c.trainer().get(k);
                b.append("<td class=n>").append(v == null ? "" : fmt(v, 3)).append("</td>");
            }
            b.append("</tr>\n");
        }
        b.append("</table></section>\n");
    }

    /** The battle evaluation in words: how many votes, and the last version against the reference. */
    private static void leaderboard(StringBuilder b, Result r) {
        JsonObject board = r.leaderboard();
        b.append("<p>Battles: ").append(board.getInteger("counted_votes")).append(" blind battle votes by the same "
                + "rule, Bradley-Terry strengths on the Elo-like scale (v0 = 1000) with bootstrap 95% intervals ("
                + board.getValue("method", "") + ").");
        JsonArray vs = board.getJsonArray("vs_reference", new JsonArray());
        for (int k = 0; k < vs.size(); k++) {
            JsonObject line = vs.getJsonObject(k);
            if (line.getInteger("policy_version") == r.last().policyVersion() && line.getValue("win_rate") != null) {
                b.append(" v").append(line.getInteger("policy_version")).append(" against v0: win rate ")
                        .append(fmt(line.getDouble("win_rate"), 3)).append(" [").append(fmt(line.getDouble("low"), 3))
                        .append(", ").append(fmt(line.getDouble("high"), 3)).append("] (")
                        .append(line.getInteger("wins")).append("-").append(line.getInteger("losses")).append(", ")
                        .append(line.getInteger("ties")).append(" ties).");
            }
        }
        b.append("</p>\n");
    }

    private static String rate(Stats.Proportion p) {
        return fmt(p.rate(), 3) + " [" + fmt(p.low(), 3) + ", " + fmt(p.high(), 3) + "] (" + p.successes() + "/"
                + p.n() + ")";
    }

    private static String meanCi(Stats.Mean m) {
        return fmt(m.mean(), 2) + " [" + fmt(m.low(), 2) + ", " + fmt(m.high(), 2) + "]";
    }

    private static String fmt(double v, int digits) {
        return String.format(java.util.Locale.ROOT, "%." + digits + "f", v);
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static String resource(String path) {
        try (InputStream in = AlignmentReport.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("missing " + path + " on the classpath (the uPlot webjar)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final String CSS = """
            body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1280px; }
            table { border-collapse: collapse; margin: 8px 0 16px; }
            th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
            td.n { text-align: right; font-variant-numeric: tabular-nums; }
            section { border-top: 2px solid #eee; margin-top: 24px; }
            .charts { display: flex; flex-wrap: wrap; gap: 16px; }
            code { background: #f4f4f4; padding: 0 4px; }
            """;

    // Each run gets up to four charts; x is always the number of votes cast.
    private static final String JS = """
            function chart(id, title, x, series, yLabel) {
              const el = document.getElementById(id);
              if (!el) return;
              const opts = { title, width: 600, height: 260, scales: { x: { time: false } },
                axes: [{ label: 'votes' }, { label: yLabel }],
                series: [{ label: 'votes' }].concat(series.map(s => ({ label: s.label, stroke: s.color,
                  width: s.band ? 1 : 2, dash: s.band ? [4, 4] : undefined, points: { show: !s.band } }))) };
              new uPlot(opts, [x].concat(series.map(s => s.data)), el);
            }
            RUNS.forEach((r, i) => {
              const cp = r.checkpoints, x = cp.map(c => c.votes);
              if (r.word) {
                chart(`run${i}-rate`, `stories containing "${r.word}"`, x, [
                  { label: 'rate', color: '#1f77b4', data: cp.map(c => c.word_rate.rate) },
                  { label: '95% low', color: '#9ecae1', band: true, data: cp.map(c => c.word_rate.ci95_low) },
                  { label: '95% high', color: '#9ecae1', band: true, data: cp.map(c => c.word_rate.ci95_high) }],
                  'rate');
              }
              chart(`run${i}-length`, 'mean response length', x, [
                { label: 'chars', color: '#2ca02c', data: cp.map(c => c.mean_chars.mean) },
                { label: '95% low', color: '#a1d99b', band: true, data: cp.map(c => c.mean_chars.ci95_low) },
                { label: '95% high', color: '#a1d99b', band: true, data: cp.map(c => c.mean_chars.ci95_high) }],
                'characters');
              chart(`run${i}-kl`, 'KL(policy || reference) estimate', x, [
                { label: 'KL', color: '#d62728', data: cp.map(c => c.kl.mean) },
                { label: '95% low', color: '#fcae91', band: true, data: cp.map(c => c.kl.ci95_low) },
                { label: '95% high', color: '#fcae91', band: true, data: cp.map(c => c.kl.ci95_high) }],
                'nats / response');
              const judged = cp.filter(c => c.strength);
              if (judged.length) {
                chart(`run${i}-strength`, 'leaderboard strength of each checkpoint', judged.map(c => c.votes), [
                  { label: 'rating', color: '#8c564b', data: judged.map(c => c.strength.rating) },
                  { label: '95% low', color: '#c49c94', band: true, data: judged.map(c => c.strength.ci95_low) },
                  { label: '95% high', color: '#c49c94', band: true, data: judged.map(c => c.strength.ci95_high) }],
                  'Elo-like (v0 = 1000)');
              }
              const st = r.steps;
              chart(`run${i}-rewards`, 'trainer (per DPO step)', st.map(s => s.votes), [
                { label: 'rewards/margins', color: '#9467bd', data: st.map(s => s.metrics['rewards/margins'] ?? null) },
                { label: 'rewards/accuracies', color: '#ff7f0e',
                  data: st.map(s => s.metrics['rewards/accuracies'] ?? null) }], 'value');
            });
            """;
}
