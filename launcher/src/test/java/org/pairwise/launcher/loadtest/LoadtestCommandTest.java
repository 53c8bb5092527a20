package org.pairwise.launcher.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.loadtest.PoolProbe;
import org.pairwise.server.PairwiseServer;
import org.pairwise.server.TestServers;
import org.pairwise.launcher.Main;

/**
 * {@code pairwise loadtest} end to end: short closed- and open-loop runs against a real in-process server (demo
 * model, pool pre-filled), whose audit passes; the audit failing against a server that loses a vote; 429 retries;
 * the JSON and HTML reports; bad flags.
 */
class LoadtestCommandTest {
    @TempDir
    static Path dir;

    static PairwiseServer server;
    static final ObjectMapper JSON = new ObjectMapper();

    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Result(code, out.toString(), err.toString());
    }

    @BeforeAll
    static void start() throws Exception {
        // Each pair serves a few annotators, and training publishes no new policy mid-run, so the run measures
        // serving and storing rather than waiting on the generator; the pool still turns over (each annotator
        // judges a pair once).
        server = PairwiseServer.start(TestServers.config(dir.resolve("data"), Map.of("model", "demo",
                "pool_size", "32", "pair_views", "4", "batch_size", "8", "publish_every", "1000")));
        PoolProbe.awaitFull(URI.create(server.url()), Duration.ofMinutes(2));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void aClosedLoopRunVotesAndItsAuditPassesWithBothReportsWritten() throws Exception {
        Path json = dir.resolve("closed.json"), html = dir.resolve("closed.html");
        Result r = run("loadtest", "--url", server.url(), "--admin-token", server.adminToken(), "--annotators", "8",
                "--votes", "300", "--duration", "30s", "--rule", "shorter", "--noise", "0.1",
                "--think-time", "uniform:0ms..2ms", "--own-prompts", "0.25", "--report", json.toString(),
                "--html", html.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("audit: PASS"), r.out());

        JsonNode rep = JSON.readTree(Files.readString(json));
        assertEquals("closed", rep.get("settings").get("load_model").asText());
        assertEquals(300, rep.get("votes").get("acknowledged").asLong(), r.out());
        assertEquals(300, rep.get("votes").get("created").asLong());
        assertTrue(rep.get("audit").get("passed").asBoolean());
        for (JsonNode c : rep.get("audit").get("checks")) {
            // SKIPPED only for the repeat check, which needs a store that was empty before the run.
            assertTrue(c.get("status").asText().equals("PASS") || c.get("name").asText().contains("twice"), c.toString());
        }
        // Eight simulated people, each with an identity cookie of its own: eight annotators to the server.
        assertTrue(rep.get("audit").get("checks").toString().contains("8 annotators match"), rep.get("audit")
                .toString());
        Map<String, JsonNode> byEndpoint = endpoints(rep);
        assertEquals(300, byEndpoint.get("POST /api/preferences").get("ok").asLong());
        assertEquals(0, byEndpoint.get("POST /api/preferences").get("errors").asLong());
        assertTrue(byEndpoint.get("GET /api/pairs/next").get("ok").asLong() > 0);
        assertTrue(byEndpoint.get("POST /api/pairs").get("ok").asLong() > 0, "some annotators typed prompts");
        JsonNode lat = byEndpoint.get("POST /api/preferences").get("latency");
        assertTrue(lat.get("p50_ms").asDouble() > 0 && lat.get("p50_ms").asDouble() <= lat.get("p99_ms").asDouble()
                && lat.get("p99_ms").asDouble() <= lat.get("max_ms").asDouble(), lat.toString());

        String page = Files.readString(html);
        assertTrue(page.contains("uPlot") && page.contains("PASS"), "html report");
        String open = "<script type=\"application/json\" id=\"report\">";
        int from = page.indexOf(open) + open.length();
        assertEquals(300, JSON.readTree(page.substring(from, page.indexOf("</script>", from))).get("votes")
                .get("acknowledged").asLong());
    }

    @Test
    void anOpenLoopRunStartsEveryScheduledVoteAndItsAuditPasses() throws Exception {
        Path json = dir.resolve("open.json");
        Result r = run("loadtest", "--url", server.url(), "--admin-token", server.adminToken(), "--rate", "150",
                "--duration", "2s", "--annotators", "40", "--rule", "longer", "--report", json.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        JsonNode rep = JSON.readTree(Files.readString(json));
        assertEquals("open", rep.get("settings").get("load_model").asText());
        // 150 a second for 2 s: arrivals due at 0 .. 1.9933 s, 300 of them, each one a vote.
        assertEquals(0, rep.get("not_sent").asLong());
        assertEquals(300, rep.get("votes").get("acknowledged").asLong(), r.out());
        assertTrue(rep.get("audit").get("passed").asBoolean(), r.out());
        JsonNode series = endpoints(rep).get("POST /api/preferences").get("series");
        assertTrue(series.size() >= 2, series.toString());
    }

    @Test
    void aWarmUpRunsOnTheSameConnectionsAndPeopleIsLeftOutOfTheFiguresAndIsAudited() throws Exception {
        Path open = dir.resolve("warm-open.json"), closed = dir.resolve("warm-closed.json");
        Result r = run("loadtest", "--url", server.url(), "--admin-token", server.adminToken(), "--rate", "150",
                "--duration", "1s", "--warmup", "1s", "--annotators", "30", "--rule", "longer",
                "--report", open.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        JsonNode votes = JSON.readTree(Files.readString(open)).get("votes");
        // Both phases are open loops of 150 arrivals; each annotator remembers the pairs it judged in the warm-up,
        // so no vote of the measured phase repeats one (a repeat would come back 200 and count as a duplicate).
        assertEquals(150, votes.get("acknowledged").asLong(), r.out());
        assertEquals(150, votes.get("warmup_acknowledged").asLong(), r.out());
        assertEquals(150, votes.get("created").asLong(), r.out());
        assertEquals(0, votes.get("duplicates").asLong(), r.out());
        assertTrue(r.out().contains("audit: PASS") && r.out().contains("stored 300 new votes, acknowledged 300"),
                r.out());

        r = run("loadtest", "--url", server.url(), "--admin-token", server.adminToken(), "--votes", "40",
                "--warmup", "500ms", "--annotators", "4", "--rule", "shorter", "--report", closed.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        votes = JSON.readTree(Files.readString(closed)).get("votes");
        assertEquals(40, votes.get("acknowledged").asLong(), r.out());
        assertTrue(votes.get("warmup_acknowledged").asLong() > 0, r.out());
        assertTrue(r.out().contains("audit: PASS"), r.out());
    }

    @Test
    void theAuditFailsWhenTheServerLosesAnAcknowledgedVote() throws Exception {
        Path json = dir.resolve("lost.json");
        try (FakeServer fake = new FakeServer(FakeServer.Fault.EXPORT_DROPS_ONE)) {
            Result r = run("loadtest", "--url", fake.url(), "--admin-token", "admin-token-1", "--annotators", "2",
                    "--votes", "10", "--rule", "longer", "--report", json.toString());
            assertOneLineError(r, "the audit failed: every acknowledged A/B vote is in the export (1 acknowledged");
            assertTrue(r.out().contains("audit: FAIL"), r.out());
            assertTrue(!JSON.readTree(Files.readString(json)).get("audit").get("passed").asBoolean());
        }
    }

    @Test
    void theAuditFailsWhenTwoVotesAreAcknowledgedUnderOneId() {
        try (FakeServer fake = new FakeServer(FakeServer.Fault.REUSES_AN_ID)) {
            Result r = run("loadtest", "--url", fake.url(), "--admin-token", "admin-token-1", "--annotators", "1",
                    "--votes", "5", "--rule", "longer");
            assertOneLineError(r, "the audit failed: acknowledged ids are distinct");
        }
    }

    @Test
    void votesRefusedWith429AreRetriedWithTheSameKeyAfterRetryAfter() throws Exception {
        Path json = dir.resolve("busy.json");
        try (FakeServer fake = new FakeServer(FakeServer.Fault.BUSY_ONCE)) {
            Result r = run("loadtest", "--url", fake.url(), "--admin-token", "admin-token-1", "--annotators", "2",
                    "--votes", "10", "--rule", "shorter", "--report", json.toString());
            assertEquals(0, r.code(), r.out() + r.err());
            JsonNode rep = JSON.readTree(Files.readString(json));
            assertEquals(10, rep.get("votes").get("acknowledged").asLong());
            assertEquals(10, rep.get("votes").get("retries").asLong());
            JsonNode vote = endpoints(rep).get("POST /api/preferences");
            assertEquals(10, vote.get("statuses").get("429").asLong());
            assertEquals(10, vote.get("statuses").get("201").asLong());
            // Each vote waited for its Retry-After (20 ms) before the retry that succeeded.
            assertTrue(vote.get("latency").get("p50_ms").asDouble() >= 19, vote.toString());
            assertTrue(rep.get("audit").get("passed").asBoolean(), r.out());
        }
    }

    @Test
    void severalUrlsSpreadThePeopleOverTheNodesEachPersonStayingOnOne() {
        try (FakeServer a = new FakeServer(FakeServer.Fault.NONE); FakeServer b = new FakeServer(FakeServer.Fault.NONE)) {
            Result r = run("loadtest", "--url", a.url() + "," + b.url(), "--annotators", "12", "--votes", "240",
                    "--no-audit");
            assertEquals(0, r.code(), r.err());
            java.util.Set<String> onA = a.voters(), onB = b.voters();
            assertTrue(onA.size() >= 3 && onB.size() >= 3, "both nodes got people: " + onA + " / " + onB);
            assertEquals(12, onA.size() + onB.size(), "every person on one node only: " + onA + " / " + onB);
            assertTrue(r.out().contains(a.url() + "," + b.url()), r.out());
        }
    }

    @Test
    void badFlagsGiveOneReadableLine() {
        String url = "http://127.0.0.1:9";
        assertOneLineUsageError(run("loadtest", "--duration", "1s"), "give either --url URL");
        assertOneLineUsageError(run("loadtest", "--url", url), "give --duration or --votes");
        assertOneLineUsageError(run("loadtest", "--url", url, "--duration", "5s", "--think-time", "soon"),
                "think time: 'soon' is not a duration");
        assertOneLineUsageError(run("loadtest", "--url", url, "--duration", "1s", "--annotators", "many"),
                "annotators: 'many' is not a whole number");
        assertOneLineUsageError(run("loadtest", "--url", url, "--votes", "5", "--rule", "sometimes"),
                "unknown preference rule 'sometimes'");
        assertOneLineUsageError(run("loadtest", "--url", url, "--votes", "5", "--rate", "-3"), "rate: must be above 0");
        assertOneLineUsageError(run("loadtest", "--url", url, "--votes", "5", "--noise", "2"),
                "noise: must be in [0, 1]");
        assertOneLineUsageError(run("loadtest", "--url", url, "--duration", "60"), "duration: '60' is not a duration");
        assertOneLineUsageError(run("loadtest", "--url", "not a url", "--votes", "5"),
                "url: expected http://HOST:PORT");
        assertOneLineUsageError(run("loadtest", "--url", url, "--votes", "5", "--workload", "soak"),
                "workload: unknown 'soak'");
        assertOneLineUsageError(run("loadtest", "--url", url, "--votes", "5", "--model", "demo"),
                "--model, --data-dir and --serve-set go with --serve");
        assertOneLineUsageError(run("loadtest", "--url", url, "--votes", "5", "--annotators-from", "people"),
                "unknown 'people' (expected one of cookies, accounts)");
        assertOneLineUsageError(run("loadtest", "--url", url, "--votes", "5", "--annotators-from", "accounts",
                "--annotator-tokens", "ann:tok"), "annotators_from: accounts are created by the load test");
        assertOneLineUsageError(run("loadtest", "--url", url, "--votes", "5", "--skip-rate", "1.5"),
                "skip_rate: must be in [0, 1]");
        assertOneLineUsageError(run("loadtest", "--url", url, "--votes", "5", "--workload", "vote", "--skip-rate",
                "0.1"), "skip_rate: skips are part of the annotate workload");
        // Accounts are made through the admin API: without its token the run cannot start, and says why.
        assertOneLineError(run("loadtest", "--url", url, "--votes", "5", "--annotators-from", "accounts"),
                "--annotators-from accounts creates accounts through the admin API: give --admin-token");
        // Nothing listens on port 9: the first request fails, and says so in one line.
        assertOneLineError(run("loadtest", "--url", url, "--votes", "5"), "Connection refused");
    }

    static Map<String, JsonNode> endpoints(JsonNode rep) {
        Map<String, JsonNode> m = new java.util.HashMap<>();
        rep.get("endpoints").forEach(e -> m.put(e.get("endpoint").asText(), e));
        return m;
    }

    static void assertOneLineError(Result r, String expected) {
        assertOneLine(r, 1, expected);
    }

    /** Bad usage (a wrong flag or setting): exit 2, one line. */
    static void assertOneLineUsageError(Result r, String expected) {
        assertOneLine(r, 2, expected);
    }

    static void assertOneLine(Result r, int code, String expected) {
        assertEquals(code, r.code(), r.out() + r.err());
        List<String> lines = new ArrayList<>(List.of(r.err().strip().split("\n")));
        lines.removeIf(l -> l.startsWith("WARNING") || l.contains("SLF4J") || l.isBlank());
        assertEquals(1, lines.size(), "one line: " + r.err());
        assertTrue(lines.getFirst().startsWith("pairwise: error: ") && lines.getFirst().contains(expected),
                r.err());
    }
}
