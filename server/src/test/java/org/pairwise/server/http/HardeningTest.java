package org.pairwise.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.server.PairwiseServer;
import org.pairwise.server.TestServers;
import org.pairwise.server.TestServers.Client;
import org.pairwise.server.auth.AdminToken;
import org.pairwise.server.config.ServeConfig;

/**
 * What every answer carries and never carries: the security headers on pages, files, API answers and errors; 405
 * with Allow for wrong methods (404 before); 400 for prompts with nothing visible in them (accepted before); and no
 * exception's own text in any error (the malformed-JSON 400 quoted Jackson's parser; a 500 quoted the exception).
 */
@ExtendWith(VertxExtension.class)
class HardeningTest {
    @TempDir
    static Path dir;
    static PairwiseServer server;
    static Client http;

    @BeforeAll
    static void start(Vertx vertx) throws Exception {
        server = PairwiseServer.start(TestServers.config(dir, Map.of()));
        http = new Client(WebClient.create(vertx), server.port(), server.adminToken());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static void assertSecured(String what, HttpResponse<Buffer> r) {
        assertEquals("nosniff", r.getHeader("X-Content-Type-Options"), what);
        assertEquals("DENY", r.getHeader("X-Frame-Options"), what);
        String csp = r.getHeader("Content-Security-Policy");
        assertNotNull(csp, what);
        for (String part : List.of("default-src 'none'", "script-src 'self'", "style-src 'self'",
                "frame-ancestors 'none'")) {
            assertTrue(csp.contains(part), what + ": " + csp);
        }
        assertFalse(csp.contains("unsafe-inline") || csp.contains("unsafe-eval"), csp);
    }

    @Test
    void pagesFilesApiAnswersAndErrorsAllCarryTheSecurityHeaders() {
        for (String path : List.of("/", "/index.html", "/dashboard.html", "/app.js", "/style.css",
                "/webjars/uplot/1.6.30/dist/uPlot.iife.min.js", "/api/stats", "/api/nope", "/nope.html",
                "/api/training/metrics?since=x")) {
            var r = http.get(path);
            assertSecured(path + " (" + r.statusCode() + ")", r);
        }
        assertSecured("401", http.send(HttpMethod.GET, "/api/export", null, MultiMap.caseInsensitiveMultiMap()));
    }

    @Test
    void wrongMethodsAre405WithAllow() {
        Map<String, String> allow = Map.ofEntries(Map.entry("/api/me", "GET"), Map.entry("/api/pairs/next", "GET"),
                Map.entry("/api/pairs", "POST"), Map.entry("/api/preferences", "POST"),
                Map.entry("/api/votes/latest", "GET"), Map.entry("/api/stats", "GET"),
                Map.entry("/api/training/metrics", "GET"), Map.entry("/api/events", "GET"),
                Map.entry("/api/prompts", "POST"), Map.entry("/api/export", "GET"), Map.entry("/api/adapter", "GET"),
                Map.entry("/api/trainer/pause", "POST"), Map.entry("/api/trainer/resume", "POST"),
                Map.entry("/metrics", "GET"));
        for (var e : allow.entrySet()) {
            for (HttpMethod m : List.of(HttpMethod.PUT, HttpMethod.DELETE, HttpMethod.PATCH,
                    e.getValue().equals("GET") ? HttpMethod.POST : HttpMethod.GET)) {
                var r = http.send(m, e.getKey(), null, MultiMap.caseInsensitiveMultiMap());
                assertEquals(405, r.statusCode(), m + " " + e.getKey() + ": " + r.bodyAsString());
                assertEquals(e.getValue(), r.getHeader("Allow"), m + " " + e.getKey());
                assertTrue(r.bodyAsJsonObject().getString("error").contains("method not allowed"));
            }
        }
        var page = http.send(HttpMethod.POST, "/index.html", "{}", MultiMap.caseInsensitiveMultiMap());
        assertEquals(405, page.statusCode());
        assertEquals("GET, HEAD", page.getHeader("Allow"));
        assertEquals(404, http.send(HttpMethod.DELETE, "/api/nope", null, MultiMap.caseInsensitiveMultiMap())
                .statusCode(), "an unknown API path is not found, whatever the method");
    }

    @Test
    void promptsWithNothingVisibleAre400() {
        MultiMap admin = MultiMap.caseInsensitiveMultiMap().add("Authorization", "Bearer " + server.adminToken())
                .add("Content-Type", "text/plain");
        for (String upload : List.of("\u0000\u0000\u0000\n", "\u0000", "", "\n\n\n", " \t \n", "\u0001\u0002\u001f\n",
                "\u200b\u200b\n", "{\"prompt\": \"\\u0000\\u0000\"}\n", "{\"messages\": [{\"role\": \"user\", "
                        + "\"content\": \"\\u0007\"}]}\n")) {
            var r = http.send(HttpMethod.POST, "/api/prompts", upload, admin);
            assertEquals(400, r.statusCode(), "upload " + escape(upload) + ": " + r.bodyAsString());
        }
        int before = http.get("/api/stats").bodyAsJsonObject().getJsonObject("pool").getInteger("prompts");
        var ok = http.send(HttpMethod.POST, "/api/prompts", "The owl\u0000 flew.\n", admin);
        assertEquals(201, ok.statusCode(), "text around a stray control character is still a prompt");
        assertEquals(before + 1, http.get("/api/stats").bodyAsJsonObject().getJsonObject("pool")
                .getInteger("prompts"));
        var ask = http.post("/api/pairs", "{\"prompt\": \"\\u0000\\u0001\"}");
        assertEquals(400, ask.statusCode(), ask.bodyAsString());
        assertTrue(ask.bodyAsJsonObject().getString("error").contains("no visible characters"), ask.bodyAsString());
    }

    @Test
    void errorsSayWhatIsWrongNeverTheParsersOwnWords() {
        var json = http.post("/api/preferences", "{\"pair_id\": \"p\", \"choice\": }");
        assertEquals(400, json.statusCode());
        JsonObject body = json.bodyAsJsonObject();
        assertEquals("malformed JSON", body.getString("error"));
        assertEquals(1, body.getJsonObject("detail").getInteger("line"));
        assertTrue(body.getJsonObject("detail").getInteger("column") > 20, body.encode());
        assertNoInternals(json);

        var query = http.get("/api/training/metrics?since=%zz");
        assertEquals(400, query.statusCode(), query.bodyAsString());
        assertTrue(query.bodyAsJsonObject().getString("error").contains("percent-encoding"), query.bodyAsString());
        assertNoInternals(query);

        MultiMap admin = MultiMap.caseInsensitiveMultiMap().add("Authorization", "Bearer " + server.adminToken());
        var jsonl = http.send(HttpMethod.POST, "/api/prompts", "{\"prompt\": oops}\n", admin.copy()
                .add("Content-Type", "application/jsonl"));
        assertEquals(400, jsonl.statusCode());
        assertEquals("upload:1: not valid JSON (at column 12)", jsonl.bodyAsJsonObject().getString("error"));
        var multipart = http.send(HttpMethod.POST, "/api/prompts", "--b\r\n\r\nno disposition\r\n--b--\r\n",
                admin.copy().add("Content-Type", "multipart/form-data; boundary=b"));
        assertEquals(400, multipart.statusCode(), multipart.bodyAsString());
        assertNoInternals(multipart);
        var path = http.get("/api/%zz");
        assertEquals(400, path.statusCode(), path.bodyAsString());
    }

    @Test
    void anInternalFailureIs500WithAnIncidentIdAndNothingOfTheException(@TempDir Path other, Vertx vertx)
            throws Exception {
        String secret = "SQLITE_IOERR at /var/lib/pairwise/secret-path.db";
        PairwiseServer broken = PairwiseServer.start(TestServers.config(other, Map.of()), (at, capacity) ->
                TestServers.failing(at.open(capacity), "latestVotes",
                        new IllegalStateException(secret)));
        try {
            Client c = new Client(WebClient.create(vertx), broken.port(), broken.adminToken());
            var r = c.asAdmin().get("/api/votes/latest");
            assertEquals(500, r.statusCode(), r.bodyAsString());
            assertEquals("internal error", r.bodyAsJsonObject().getString("error"));
            assertTrue(r.bodyAsJsonObject().getJsonObject("detail").getString("incident").matches("[0-9a-f]+"));
            assertFalse(r.bodyAsString().contains("secret-path") || r.bodyAsString().contains("SQLITE"),
                    r.bodyAsString());
        } finally {
            broken.close();
        }
    }

    @Test
    void theAdminTokenIsAtLeast32Characters(@TempDir Path data) throws Exception {
        ServeConfig d = ServeConfig.defaults();
        var e = assertThrows(IllegalArgumentException.class, () -> d.withOverrides(Map.of("admin_token",
                "a".repeat(AdminToken.MIN_LENGTH - 1))));
        assertTrue(e.getMessage().contains("at least 32"), e.getMessage());
        assertEquals(32, d.withOverrides(Map.of("admin_token", "a".repeat(32))).adminToken().length());
        Files.writeString(data.resolve(AdminToken.FILE_NAME), "eight888\n");
        var file = assertThrows(java.io.IOException.class, () -> AdminToken.resolve(null, data));
        assertTrue(file.getMessage().contains("at least 32"), file.getMessage());
        Files.delete(data.resolve(AdminToken.FILE_NAME));
        assertEquals(48, AdminToken.resolve(null, data).value().length(), "the generated one");
    }

    @Test
    void aLibrarysOwnMessageIsNotPassedOnButOursIs() {
        assertEquals("bad request", Failures.clientMessage(assertThrows(NumberFormatException.class,
                () -> Integer.parseInt("x"))));
        assertEquals("choice must be one of a, b", Failures.clientMessage(
                new IllegalArgumentException("choice must be one of a, b")));
        assertEquals("internal error", Failures.clientMessage(new IllegalStateException("/secret/path")));
    }

    private static void assertNoInternals(HttpResponse<Buffer> r) {
        String s = r.bodyAsString();
        for (String leak : List.of("Exception", "jackson", "Jackson", "Unexpected character", "Source:", "netty",
                "io.vertx", "java.")) {
            assertFalse(s.contains(leak), leak + " in " + s);
        }
    }

    private static String escape(String s) {
        StringBuilder b = new StringBuilder();
        s.chars().forEach(c -> b.append(c < 32 || c > 126 ? String.format("\\u%04x", c) : String.valueOf((char) c)));
        return b.toString();
    }

}
