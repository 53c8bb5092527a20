package org.pairwise.loadtest;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The report as one self-contained HTML page: tables, and uPlot charts of throughput and latency over time. uPlot
 * (the dashboard's charting library) is inlined from its webjar, so the page fetches nothing and can be mailed or
 * archived as it is.
 */
public final class HtmlReport {
    static final String UPLOT = "META-INF/resources/webjars/uplot/1.6.30/dist/";

    private HtmlReport() {}

    public static void write(LoadReport report, Path file) throws IOException {
        Files.writeString(file, render(report));
    }

    public static String render(LoadReport r) {
        StringBuilder b = new StringBuilder(80_000);
        b.append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>pairwise loadtest ")
                .append(esc(r.runId())).append("</title>\n<style>\n").append(resource(UPLOT + "uPlot.min.css"))
                .append("\n").append(CSS).append("</style>\n</head><body>\n");
        b.append("<h1>pairwise loadtest</h1>\n<p>").append(esc(String.valueOf(r.settings().get("url"))))
                .append(" &middot; started ").append(esc(r.startedAt())).append(" &middot; ")
                .append(String.format("%.1f", r.elapsedSeconds())).append(" s &middot; run ").append(esc(r.runId()))
                .append("</p>\n");

        b.append("<h2>Settings</h2>\n<table>");
        for (Map.Entry<String, Object> e : r.settings().entrySet()) {
            b.append("<tr><th>").append(esc(e.getKey())).append("</th><td>").append(esc(String.valueOf(e.getValue())))
                    .append("</td></tr>");
        }
        b.append("</table>\n");

        b.append("<h2>Endpoints</h2>\n<table><tr><th>endpoint</th><th>ok/s</th><th>p50 ms</th><th>p90 ms</th>"
                + "<th>p99 ms</th><th>p99.9 ms</th><th>max ms</th><th>ok</th><th>errors</th><th>responses by status"
                + "</th></tr>\n");
        for (EndpointSummary e : r.endpoints()) {
            var l = e.latency();
            b.append("<tr><td>").append(esc(e.endpoint())).append("</td>");
            for (double v : new double[] {e.okPerSecond(), l.p50Ms(), l.p90Ms(), l.p99Ms(), l.p999Ms(), l.maxMs()}) {
                b.append("<td class=n>").append(String.format("%.2f", v)).append("</td>");
            }
            b.append("<td class=n>").append(e.ok()).append("</td><td class=n>").append(e.errors()).append("</td><td>")
                    .append(esc(e.statuses().toString())).append("</td></tr>\n");
        }
        b.append("</table>\n");

        if (r.votes() != null) {
            var v = r.votes();
            b.append("<h2>Votes</h2>\n<p>").append(v.acknowledged()).append(" acknowledged (").append(v.created())
                    .append(" created, ").append(v.duplicates()).append(" duplicate answers), ")
                    .append(String.format("%.1f", v.perSecond())).append(" per second; ").append(v.retries())
                    .append(" retries; ").append(v.repeatedPairs()).append(" repeated pairs skipped; ")
                    .append(v.unknownOutcome()).append(" with unknown outcome.</p>\n");
        }
        if (r.notSent() > 0) {
            b.append("<p class=fail>").append(r.notSent()).append(" operations were not sent: the client had too "
                    + "many in flight, so the offered rate was not met.</p>\n");
        }
        if (r.audit() != null) {
            b.append("<h2>Audit: <span class=").append(r.audit().passed() ? "pass>PASS" : "fail>FAIL")
                    .append("</span></h2>\n<table>");
            for (Audit.Check c : r.audit().checks()) {
                b.append("<tr><td class=").append(c.status().name().toLowerCase()).append(">").append(c.status())
                        .append("</td><th>").append(esc(c.name())).append("</th><td>").append(esc(c.detail()))
                        .append("</td></tr>\n");
            }
            b.append("</table>\n");
        }

        b.append("<h2>Throughput (successful operations per second)</h2>\n<div id=throughput></div>\n");
        b.append("<h2>Latency p50 and p99 per second (ms, from each operation's intended start)</h2>\n"
                + "<div id=latency></div>\n");
        if (!r.errorSamples().isEmpty()) {
            b.append("<h2>First errors</h2>\n<ul>");
            r.errorSamples().forEach(s -> b.append("<li><code>").append(esc(s)).append("</code></li>"));
            b.append("</ul>\n");
        }
        // The data as JSON; "<" escaped so no text from a server can close the script element.
        b.append("<script type=\"application/json\" id=\"report\">").append(r.toJson().replace("<", "\\u003c"))
                .append("</script>\n<script>\n").append(resource(UPLOT + "uPlot.iife.min.js")).append("\n</script>\n")
                .append("<script>\n").append(CHARTS).append("</script>\n</body></html>\n");
        return b.toString();
    }

    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    private static String resource(String name) {
        try (InputStream in = HtmlReport.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " is not on the classpath (the uPlot webjar, through "
                        + "pairwise-web-ui)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + name, e);
        }
    }

    private static final String CSS = """
            body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
            table { border-collapse: collapse; margin-bottom: 1em; }
            th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
            td.n { text-align: right; font-variant-numeric: tabular-nums; }
            .pass { color: #17803d; font-weight: bold; } .fail { color: #b91c1c; font-weight: bold; }
            .skipped { color: #777; }
            """;

    private static final String CHARTS = """
            const report = JSON.parse(document.getElementById('report').textContent);
            const colors = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c'];
            const eps = report.endpoints.filter(e => e.series.length > 0);
            const t = eps.length ? eps[0].series.map(p => p.t) : [];
            function chart(el, title, unit, seriesOf) {
              const series = [{}], data = [t];
              eps.forEach((e, i) => seriesOf(e).forEach(([label, values, dash]) => {
                series.push({label: e.endpoint + ' ' + label, stroke: colors[i % colors.length], dash: dash,
                             width: 1.5, value: (u, v) => v == null ? '-' : v.toFixed(2) + ' ' + unit});
                data.push(values);
              }));
              new uPlot({title: title, width: Math.min(1100, window.innerWidth - 60), height: 320, series: series,
                         scales: {x: {time: false}}, axes: [{label: 'seconds'}, {label: unit}]},
                        data, document.getElementById(el));
            }
            chart('throughput', 'throughput', 'ops/s', e => [['ok/s', e.series.map(p => p.ok)]]);
            chart('latency', 'latency', 'ms', e => [['p50', e.series.map(p => p.p50_ms), [4, 4]],
                                                     ['p99', e.series.map(p => p.p99_ms)]]);
            """;
}
