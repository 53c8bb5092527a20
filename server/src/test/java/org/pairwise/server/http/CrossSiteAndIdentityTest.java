package org.pairwise.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.server.PairwiseServer;
import org.pairwise.server.TestServers;
import org.pairwise.server.TestServers.Client;

/**
 * Open mode against another site's page and against people who pick names: before this, text/plain and form POSTs
 * from a foreign Origin got 201, POST /api/pairs ran a generation for one, voting first as "victim" made victim's own
 * vote 409, and five anonymous votes on one pair were all stored.
 */
@ExtendWith(VertxExtension.class)
class CrossSiteAndIdentityTest {
    static final String ALLOWED = "https://app.example.org";

    @TempDir
    static Path dir;
    static PairwiseServer server;
    static Client http;
    static String self;

    @BeforeAll
    static void start(Vertx vertx) throws Exception {
        server = PairwiseServer.start(TestServers.config(dir, Map.of("cors", ALLOWED,
                "annotator_tokens", "scripted:scripted-annotator-token")));
        http = new Client(WebClient.create(vertx), server.port(), server.adminToken());
        self = "http://127.0.0.1:" + server.port();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static String pair() {
        return http.get("/api/pairs/next").bodyAsJsonObject().getString("pair_id");
    }

    private static long votes() {
        return http.asAdmin().get("/api/stats").bodyAsJsonObject().getLong("votes");
    }

    private static MultiMap h(String... kv) {
        MultiMap m = MultiMap.caseInsensitiveMultiMap();
        for (int i = 0; i < kv.length; i += 2) {
            m.add(kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    void anotherSitesPageCannotVoteOrGenerate() {
        String p = pair();
        String json = new JsonObject().put("pair_id", p).put("choice", "a").encode();
        long before = votes();
        // A person's own prompt is stored before its pair is generated: the prompt count tells whether one ran.
        long promptsBefore = http.asAdmin().get("/api/stats").bodyAsJsonObject().getLong("prompts");
        // What a page on evil.example can send without asking: text/plain, form and multipart bodies.
        for (String type : new String[] {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}) {
            var r = http.send(HttpMethod.POST, "/api/preferences", json, h("Origin", "http://evil.example",
                    "Content-Type", type));
            assertEquals(403, r.statusCode(), type + ": " + r.bodyAsString());
            assertTrue(r.bodyAsJsonObject().getString("error").contains("cross-site"), r.bodyAsString());
        }
        // The same bodies without an Origin (a script, say) still are not JSON: 415.
        assertEquals(415, http.send(HttpMethod.POST, "/api/preferences", json, h("Content-Type", "text/plain"))
                .statusCode());
        assertEquals(415, http.send(HttpMethod.POST, "/api/preferences", "pair_id=" + p + "&choice=a",
                h("Content-Type", "application/x-www-form-urlencoded")).statusCode());
        // JSON from a foreign page, from a page that names itself only in Referer, from a sandboxed frame (null).
        assertEquals(403, http.send(HttpMethod.POST, "/api/preferences", json, h("Origin", "http://evil.example",
                "Content-Type", "application/json")).statusCode());
        assertEquals(403, http.send(HttpMethod.POST, "/api/preferences", json, h("Referer",
                "http://evil.example/page.html", "Content-Type", "application/json")).statusCode());
        assertEquals(403, http.send(HttpMethod.POST, "/api/preferences", json, h("Origin", "null",
                "Content-Type", "application/json")).statusCode());
        // Same host name, other port: another origin.
        assertEquals(403, http.send(HttpMethod.POST, "/api/preferences", json, h("Origin",
                "http://127.0.0.1:" + (server.port() + 1), "Content-Type", "application/json")).statusCode());
        var generate = http.send(HttpMethod.POST, "/api/pairs", new JsonObject().put("prompt", "Once").encode(),
                h("Origin", "http://evil.example", "Content-Type", "application/json"));
        assertEquals(403, generate.statusCode(), generate.bodyAsString());
        assertEquals(415, http.send(HttpMethod.POST, "/api/pairs", "{\"prompt\": \"Once\"}",
                h("Content-Type", "text/plain")).statusCode());
        assertEquals(before, votes(), "nothing was stored");
        assertEquals(promptsBefore, http.asAdmin().get("/api/stats").bodyAsJsonObject().getLong("prompts"),
                "nothing was generated");

        // The server's own page, and the --cors origin, may.
        var own = http.as("page-person").send(HttpMethod.POST, "/api/preferences", json, h("Origin", self,
                "Referer", self + "/", "Content-Type", "application/json"));
        assertEquals(201, own.statusCode(), own.bodyAsString());
        var allowed = http.as("app-person").send(HttpMethod.POST, "/api/preferences", json, h("Origin", ALLOWED,
                "Content-Type", "application/json"));
        assertEquals(201, allowed.statusCode(), allowed.bodyAsString());
        assertEquals(before + 2, votes());
    }

    @Test
    void nobodyVotesUnderAnotherPersonsName() {
        String p = pair();
        // The attacker names the victim in the body: the vote is stored under the attacker's own identity.
        var attack = http.vote(p, "a", "mallory");
        assertEquals(201, attack.statusCode(), attack.bodyAsString());
        var forged = http.as("mallory").post("/api/preferences", new JsonObject().put("pair_id", pair())
                .put("choice", "a").put("annotator", "victim").encode());
        assertEquals(http.name("mallory"), forged.bodyAsJsonObject().getString("annotator"));
        var victim = http.as("victim").post("/api/preferences", new JsonObject().put("pair_id", p)
                .put("choice", "b").put("annotator", "victim").encode());
        assertEquals(201, victim.statusCode(), "the victim's own vote is not blocked: " + victim.bodyAsString());
        assertEquals(http.name("victim"), victim.bodyAsJsonObject().getString("annotator"));
        assertNotEquals(http.name("victim"), http.name("mallory"));
        // A bearer token still names its holder in open mode (scripts), whatever the body says.
        var scripted = http.send(HttpMethod.POST, "/api/preferences", new JsonObject().put("pair_id", p)
                .put("choice", "tie").put("annotator", "victim").encode(), h("Authorization",
                "Bearer scripted-annotator-token", "Content-Type", "application/json"));
        assertEquals("scripted", scripted.bodyAsJsonObject().getString("annotator"), scripted.bodyAsString());
    }

    @Test
    void oneBrowserVotesOncePerPair() {
        String p = pair();
        Client browser = http.as("five-tries");
        int created = 0;
        String[] choices = {"a", "b", "tie", "both_bad", "a"};
        for (String c : choices) {
            var r = browser.post("/api/preferences", new JsonObject().put("pair_id", p).put("choice", c).encode());
            assertTrue(r.statusCode() == 201 || r.statusCode() == 200 || r.statusCode() == 409, r.bodyAsString());
            created += r.statusCode() == 201 ? 1 : 0;
        }
        assertEquals(1, created);
        JsonArray all = http.asAdmin().get("/api/votes/latest?limit=100").bodyAsJsonObject().getJsonArray("votes");
        long onPair = all.stream().map(JsonObject.class::cast).filter(v -> v.getString("pair_id").equals(p)
                && v.getString("annotator").equals(http.name("five-tries"))).count();
        assertEquals(1, onPair, "one stored vote for one browser on one pair");
    }

    @Test
    void aBrowserGetsAnHttpOnlySameSiteIdentityAndScriptsKeepOnePerSimulatedPerson() {
        var first = http.get("/api/pairs/next");
        String cookie = first.getHeader("Set-Cookie");
        assertNotNull(cookie, "a browser without an identity gets one");
        assertTrue(cookie.startsWith("pairwise_annotator="), cookie);
        for (String flag : new String[] {"HTTPOnly", "SameSite=Strict", "Path=/", "Max-Age="}) {
            assertTrue(cookie.toLowerCase().contains(flag.toLowerCase()), flag + " in " + cookie);
        }
        String secret = cookie.substring("pairwise_annotator=".length(), cookie.indexOf(';'));
        String name = http.send(HttpMethod.GET, "/api/me", null, h("Cookie", "pairwise_annotator=" + secret))
                .bodyAsJsonObject().getString("annotator");
        assertTrue(name.startsWith("anon-"), name);
        assertFalse(name.contains(secret), "the shown name does not give the cookie away");
        // The same cookie is the same person; a request that keeps it gets no new one.
        var again = http.send(HttpMethod.GET, "/api/me", null, h("Cookie", "pairwise_annotator=" + secret));
        assertEquals(name, again.bodyAsJsonObject().getString("annotator"));
        assertEquals(null, again.getHeader("Set-Cookie"));
        // Simulated people with secrets of their own are as many distinct people, each voting on the same pair.
        String p = pair();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < 5; i++) {
            var r = http.vote(p, "a", "simulated-" + i);
            assertEquals(201, r.statusCode(), r.bodyAsString());
            names.add(r.bodyAsJsonObject().getString("annotator"));
        }
        assertEquals(5, names.size(), names.toString());
    }
}
