package org.pairwise.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportRenderingTest {
    @TempDir
    Path tmp;

    static LoadReport report() {
        EndpointRecorder next = new EndpointRecorder("GET /api/pairs/next");
        EndpointRecorder vote = new EndpointRecorder("POST /api/preferences");
        for (int s = 1; s <= 3; s++) {
            for (int i = 1; i <= 100; i++) {
                next.status(200);
                next.ok(i * 10_000L);  // 0.01 .. 1 ms
                vote.status(201);
                vote.ok(i * 1_000_000L);  // 1 .. 100 ms
            }
            next.tick(s);
            vote.tick(s);
        }
        vote.status(409);
        vote.error();
        LoadConfig cfg = LoadConfig.SCHEMA.build(Map.of("url", java.util.List.of(URI.create("http://127.0.0.1:8080")), "votes", 300L));
        Audit.Result audit = new Audit.Result(true, 300, 300, 300, 300, 0,
                List.of(new Audit.Check("every acknowledged A/B vote is in the export", Audit.Status.PASS, "ok")), null);
        return new LoadReport("2026-01-01T00:00:00Z", "abc123", cfg.describe(), 3.0, 0,
                List.of(next.summary(3.0), vote.summary(3.0)),
                new LoadReport.Votes(300, 300, 0, 100, 0, 0, 0, 0, 0), audit,
                List.of("POST /api/preferences 409: </script><script>alert(1)</script>"));
    }

    @Test
    void theJsonReportCarriesPercentilesStatusesSeriesAndTheAudit() throws Exception {
        Path file = tmp.resolve("r.json");
        report().writeJson(file);
        JsonNode j = new ObjectMapper().readTree(Files.readString(file));
        JsonNode vote = j.get("endpoints").get(1);
        assertEquals("POST /api/preferences", vote.get("endpoint").asText());
        assertEquals(300, vote.get("ok").asLong());
        assertEquals(1, vote.get("errors").asLong());
        assertEquals(100.0, vote.get("ok_per_second").asDouble(), 1e-9);
        assertEquals(50.0, vote.get("latency").get("p50_ms").asDouble(), 0.1);
        assertEquals(99.0, vote.get("latency").get("p99_ms").asDouble(), 0.1);
        assertEquals(100.0, vote.get("latency").get("max_ms").asDouble(), 0.1);
        assertEquals(Map.of("201", 300, "409", 1), new ObjectMapper().convertValue(vote.get("statuses"), Map.class));
        assertEquals(3, vote.get("series").size());
        assertEquals(100, vote.get("series").get(2).get("ok").asLong());
        assertTrue(j.get("audit").get("passed").asBoolean());
        assertEquals("PASS", j.get("audit").get("checks").get(0).get("status").asText());
        assertEquals("closed", j.get("settings").get("load_model").asText());
    }

    @Test
    void theHtmlReportIsSelfContainedAndItsDataParses() throws Exception {
        Path file = tmp.resolve("r.html");
        HtmlReport.write(report(), file);
        String html = Files.readString(file);
        assertTrue(html.contains("uPlot"), "uPlot inlined");
        assertTrue(html.contains(".uplot"), "uPlot's stylesheet inlined");
        assertFalse(html.contains("src=\"http") || html.contains("href=\"http") || html.contains("<link"),
                "nothing fetched");
        // Server text is escaped in the tables and cannot close the data script.
        assertTrue(html.contains("&lt;/script&gt;&lt;script&gt;alert(1)"));
        String open = "<script type=\"application/json\" id=\"report\">";
        int from = html.indexOf(open) + open.length();
        String data = html.substring(from, html.indexOf("</script>", from));
        JsonNode j = new ObjectMapper().readTree(data);
        assertEquals("abc123", j.get("run_id").asText());
        assertTrue(j.get("error_samples").get(0).asText().contains("</script>"));
        assertTrue(html.contains("id=throughput") && html.contains("id=latency"));
    }

    @Test
    void theTableShowsEveryEndpointAndTheAuditVerdict() {
        StringWriter out = new StringWriter();
        report().printTable(new PrintWriter(out));
        String t = out.toString();
        assertTrue(t.contains("GET /api/pairs/next"), t);
        assertTrue(t.contains("POST /api/preferences"), t);
        assertTrue(t.contains("audit: PASS"), t);
        assertTrue(t.contains("{201=300, 409=1}"), t);
    }
}
