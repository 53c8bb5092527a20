package org.pairwise.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
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
import org.pairwise.server.PairwiseServer;
import org.pairwise.server.TestServers;
import org.pairwise.server.auth.Secrets;

/**
 * Accounts mode from the outside, on a real server and SQLite file over loopback: the admin creates annotators and
 * invites them, an invite opens one session (its cookie's flags checked), used and expired codes are refused, cookie
 * writes need the CSRF token and cross-site ones are refused, a disabled or deleted account loses its session and
 * token on the next request, viewers cannot vote, nobody votes or reads as someone else, wrong codes are rate
 * limited, and the database file holds no usable secret. Each test speaks from its own loopback address
 * (127.0.0.N), so the failed-sign-in limit of one does not reach the others.
 */
class AccountsTest {
    static final String ADMIN = "accounts-test-admin-token-0123456789";

    @TempDir
    static Path dir;
    static PairwiseServer server;
    /** Every secret the server handed out in these tests: none may be in the database file in clear. */
    static final List<String> secrets = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        server = PairwiseServer.start(TestServers.config(dir, Map.of("annotation", "accounts", "admin_token", ADMIN,
                "annotator_tokens", "scripted:scripted-token-0123456789")));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** Requests from one loopback address, with headers of one person (a cookie, a token, a CSRF token). */
    record Caller(HttpClient http, List<String> headers) {
        static Caller from(int lastOctet) throws Exception {
            return new Caller(HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
                    .localAddress(InetAddress.getByName("127.0.0." + lastOctet)).build(), List.of());
        }

        Caller with(String... nameValues) {
            List<String> h = new ArrayList<>(headers);
            h.addAll(List.of(nameValues));
            return new Caller(http, h);
        }

        Caller admin() {
            return with("Authorization", "Bearer " + ADMIN);
        }

        HttpResponse<String> get(String path) throws Exception {
            return send("GET", path, null);
        }

        HttpResponse<String> post(String path, String json) throws Exception {
            return send("POST", path, json);
        }

        HttpResponse<String> send(String method, String path, String json) throws Exception {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                    .timeout(Duration.ofSeconds(30));
            for (int i = 0; i < headers.size(); i += 2) {
                b.header(headers.get(i), headers.get(i + 1));
            }
            if (json != null) {
                b.header("Content-Type", "application/json");
            }
            b.method(method, json == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(json));
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        }
    }

    /** A signed-in browser: its session cookie and CSRF token. */
    record Session(Caller caller, String cookie, String csrf) {
        Caller withCsrf() {
            return caller.with("X-CSRF-Token", csrf);
        }
    }

    static JsonObject create(Caller admin, String name, String role, boolean token) throws Exception {
        var r = admin.post("/api/annotators", new JsonObject().put("name", name).put("role", role)
                .put("token", token).encode());
        assertEquals(201, r.statusCode(), r.body());
        JsonObject j = new JsonObject(r.body());
        if (token) {
            secrets.add(j.getString("token"));
        }
        return j;
    }

    static String invite(Caller admin, String name) throws Exception {
        var r = admin.post("/api/invites", new JsonObject().put("name", name).encode());
        assertEquals(201, r.statusCode(), r.body());
        JsonObject j = new JsonObject(r.body());
        String code = j.getString("code");
        secrets.add(code);
        assertEquals("/#invite=" + code, j.getString("path"));
        assertEquals("http://127.0.0.1:" + server.port() + "/#invite=" + code, j.getString("link"));
        return code;
    }

    static Session signIn(Caller browser, String code) throws Exception {
        var r = browser.post("/api/session", new JsonObject().put("code", code).encode());
        assertEquals(200, r.statusCode(), r.body());
        String setCookie = r.headers().allValues("Set-Cookie").stream()
                .filter(c -> c.startsWith(Auth.SESSION_COOKIE + "=")).findFirst().orElseThrow();
        String value = setCookie.substring(setCookie.indexOf('=') + 1, setCookie.indexOf(';'));
        secrets.add(value);
        Caller withCookie = browser.with("Cookie", Auth.SESSION_COOKIE + "=" + value);
        return new Session(withCookie, setCookie, new JsonObject(r.body()).getString("csrf_token"));
    }

    static String nextPair(Caller c) throws Exception {
        for (int i = 0; i < 600; i++) {
            var r = c.get("/api/pairs/next");
            if (r.statusCode() == 200) {
                return new JsonObject(r.body()).getString("pair_id");
            }
            assertEquals(503, r.statusCode(), r.body());  // none ready yet
            Thread.sleep(100);
        }
        throw new AssertionError("no pair within a minute");
    }

    static String vote(String pair, String choice) {
        return new JsonObject().put("pair_id", pair).put("choice", choice).encode();
    }

    @Test
    void anInviteOpensOneSessionWithAStrictHttpOnlyCookie() throws Exception {
        Caller admin = Caller.from(2).admin();
        create(admin, "alice", "annotator", false);
        String code = invite(admin, "alice");
        Caller browser = Caller.from(2);
        Session s = signIn(browser, code);
        String flags = s.cookie().toLowerCase(java.util.Locale.ROOT);
        assertTrue(flags.contains("; httponly"), s.cookie());
        assertTrue(flags.contains("; samesite=strict"), s.cookie());
        assertTrue(flags.contains("; path=/"), s.cookie());
        assertTrue(flags.contains("; max-age=" + AccountsApi.SESSION_SECONDS), s.cookie());
        assertFalse(flags.contains("; secure"), "plain http: a Secure cookie would never come back " + s.cookie());

        JsonObject me = new JsonObject(s.caller().get("/api/me").body());
        assertEquals("alice", me.getString("annotator"));
        assertEquals("annotator", me.getString("role"));
        assertEquals("accounts", me.getString("annotation"));
        assertEquals(s.csrf(), me.getString("csrf_token"));

        // One-time: the same code again, from any browser, opens nothing.
        var again = Caller.from(3).post("/api/session", new JsonObject().put("code", code).encode());
        assertEquals(401, again.statusCode(), again.body());
        assertTrue(new JsonObject(again.body()).getString("error").contains("already used"), again.body());
        assertFalse(again.headers().allValues("Set-Cookie").stream().anyMatch(c -> c.contains("=" + code)));
        var unknown = Caller.from(3).post("/api/session", new JsonObject().put("code", Secrets.newSecret()).encode());
        assertEquals(401, unknown.statusCode());
        assertEquals("this invite code is not valid", new JsonObject(unknown.body()).getString("error"));

        // Without a session or token accounts mode knows nobody; signing out ends the session for good.
        assertEquals(401, Caller.from(2).get("/api/pairs/next").statusCode());
        assertEquals(200, s.withCsrf().post("/api/session/end", null).statusCode());
        var after = s.caller().get("/api/me");
        assertEquals(401, after.statusCode());
        assertTrue(after.headers().allValues("Set-Cookie").stream().anyMatch(c -> c.startsWith(Auth.SESSION_COOKIE
                + "=;") && c.toLowerCase(java.util.Locale.ROOT).contains("max-age=0")), after.headers().map()
                .toString());
    }

    @Test
    void anExpiredInviteIsRefused() throws Exception {
        Caller admin = Caller.from(4).admin();
        create(admin, "erin", "annotator", false);
        var r = admin.post("/api/invites", new JsonObject().put("name", "erin").put("expires_in_seconds", 1).encode());
        assertEquals(201, r.statusCode(), r.body());
        String code = new JsonObject(r.body()).getString("code");
        secrets.add(code);
        Thread.sleep(1200);
        var late = Caller.from(4).post("/api/session", new JsonObject().put("code", code).encode());
        assertEquals(401, late.statusCode(), late.body());
        assertTrue(new JsonObject(late.body()).getString("error").contains("expired"), late.body());
        var bad = admin.post("/api/invites", new JsonObject().put("name", "erin").put("expires_in_seconds", 0)
                .encode());
        assertEquals(400, bad.statusCode(), bad.body());
        assertEquals(404, admin.post("/api/invites", new JsonObject().put("name", "nobody").encode()).statusCode());
    }

    @Test
    void cookieWritesNeedTheCsrfTokenAndCrossSiteOnesAreRefused() throws Exception {
        Caller admin = Caller.from(5).admin();
        create(admin, "carol", "annotator", false);
        Session s = signIn(Caller.from(5), invite(admin, "carol"));
        String pair = nextPair(s.caller());
        // The session cookie alone does not make a write: a page elsewhere could make the browser send it.
        var noToken = s.caller().post("/api/preferences", vote(pair, "a"));
        assertEquals(403, noToken.statusCode(), noToken.body());
        assertTrue(new JsonObject(noToken.body()).getString("error").contains("CSRF"), noToken.body());
        var wrongToken = s.caller().with("X-CSRF-Token", Secrets.newSecret()).post("/api/preferences",
                vote(pair, "a"));
        assertEquals(403, wrongToken.statusCode(), wrongToken.body());
        // A cross-site POST, as another site's page makes it (its Origin), with and without the token.
        var crossSite = s.caller().with("Origin", "https://evil.example").post("/api/preferences", vote(pair, "a"));
        assertEquals(403, crossSite.statusCode(), crossSite.body());
        assertTrue(new JsonObject(crossSite.body()).getString("error").contains("cross-site"), crossSite.body());
        var crossSiteToken = s.withCsrf().with("Origin", "https://evil.example").post("/api/preferences",
                vote(pair, "a"));
        assertEquals(403, crossSiteToken.statusCode(), crossSiteToken.body());
        // A form post (text/plain needs no preflight) from another site.
        var form = s.caller().with("Origin", "https://evil.example", "Content-Type", "text/plain")
                .send("POST", "/api/preferences", null);
        assertEquals(403, form.statusCode(), form.body());
        assertEquals(List.of(), votesOf("carol"));

        // The page's own request: same origin, the token. The body's annotator field names nobody.
        var ok = s.withCsrf().with("Origin", "http://127.0.0.1:" + server.port()).post("/api/preferences",
                new JsonObject().put("pair_id", pair).put("choice", "a").put("annotator", "alice").encode());
        assertEquals(201, ok.statusCode(), ok.body());
        assertEquals("carol", new JsonObject(ok.body()).getString("annotator"));
        assertEquals(List.of(pair + ":a"), votesOf("carol"));
        var progress = new JsonObject(s.caller().get("/api/progress").body());
        assertEquals(1L, progress.getLong("votes"));
        assertEquals("carol", progress.getString("annotator"));
    }

    @Test
    void aDisabledOrDeletedAccountLosesItsSessionAndTokenAtOnce() throws Exception {
        Caller admin = Caller.from(6).admin();
        String token = create(admin, "bob", "annotator", true).getString("token");
        assertTrue(new JsonObject(admin.get("/api/annotators").body()).getJsonArray("annotators").encode()
                .contains("\"name\":\"bob\",\"role\":\"annotator\",\"status\":\"active\",\"has_token\":true"));
        Session s = signIn(Caller.from(6), invite(admin, "bob"));
        Caller byToken = Caller.from(6).with("Authorization", "Bearer " + token);
        assertEquals(200, s.caller().get("/api/progress").statusCode());
        assertEquals("bob", new JsonObject(byToken.get("/api/me").body()).getString("annotator"));
        String unused = invite(admin, "bob");

        // An event stream open before the account is disabled ends with it.
        HttpResponse<java.io.InputStream> stream = s.caller().http().send(HttpRequest.newBuilder(URI.create(
                "http://127.0.0.1:" + server.port() + "/api/events")).header("Cookie", s.caller().headers().get(1))
                .build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, stream.statusCode());
        var drained = java.util.concurrent.CompletableFuture.runAsync(() -> {
            try (var in = stream.body()) {
                in.transferTo(java.io.OutputStream.nullOutputStream());
            } catch (java.io.IOException e) {
                // a reset is an end too
            }
        });

        assertEquals(200, admin.post("/api/annotators/status", status("bob", "disabled")).statusCode());
        drained.get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(401, s.caller().get("/api/progress").statusCode());
        assertEquals(401, byToken.get("/api/pairs/next").statusCode());
        var viaInvite = Caller.from(6).post("/api/session", new JsonObject().put("code", unused).encode());
        assertEquals(401, viaInvite.statusCode(), "a disabled account's open invites die with it");
        var viaToken = Caller.from(6).post("/api/session", new JsonObject().put("token", token).encode());
        assertEquals(401, viaToken.statusCode());

        // Enabled again: the token works; the ended session stays ended.
        assertEquals(200, admin.post("/api/annotators/status", status("bob", "active")).statusCode());
        assertEquals(200, byToken.get("/api/me").statusCode());
        assertEquals(401, s.caller().get("/api/me").statusCode());

        // Deleted: nothing opens, the row stays, the name is never given out again, and deleted stays deleted.
        assertEquals(200, admin.post("/api/annotators/status", status("bob", "deleted")).statusCode());
        assertEquals(401, byToken.get("/api/me").statusCode());
        var reuse = admin.post("/api/annotators", new JsonObject().put("name", "bob").encode());
        assertEquals(409, reuse.statusCode(), reuse.body());
        assertEquals(409, admin.post("/api/annotators/status", status("bob", "active")).statusCode());
        assertTrue(new JsonObject(admin.get("/api/annotators").body()).getJsonArray("annotators").encode()
                .contains("\"name\":\"bob\",\"role\":\"annotator\",\"status\":\"deleted\",\"has_token\":false"));
        // The server's own names and the configured tokens' are not for accounts.
        for (String taken : List.of("admin", "auto", "anon-0123456789abcdef", "scripted")) {
            var r = admin.post("/api/annotators", new JsonObject().put("name", taken).encode());
            assertEquals(409, r.statusCode(), taken + ": " + r.body());
        }
        assertEquals(400, admin.post("/api/annotators", new JsonObject().put("name", "<b>x</b>").encode())
                .statusCode());
        assertEquals(400, admin.post("/api/annotators", new JsonObject().put("name", "x").put("role", "root")
                .encode()).statusCode());
    }

    @Test
    void viewersReadButCannotVoteAndAnnotatorsNeitherAdministerNorReadOthers() throws Exception {
        Caller admin = Caller.from(7).admin();
        create(admin, "vic", "viewer", false);
        create(admin, "dan", "annotator", false);
        create(admin, "eve", "annotator", false);
        Session vic = signIn(Caller.from(7), invite(admin, "vic"));
        Session dan = signIn(Caller.from(7), invite(admin, "dan"));
        Session eve = signIn(Caller.from(7), invite(admin, "eve"));

        String pair = nextPair(dan.caller());
        assertEquals(403, vic.caller().get("/api/pairs/next").statusCode());
        var vicVote = vic.withCsrf().post("/api/preferences", vote(pair, "a"));
        assertEquals(403, vicVote.statusCode(), vicVote.body());
        assertEquals(201, dan.withCsrf().post("/api/preferences", new JsonObject().put("pair_id", pair)
                .put("choice", "b").put("comment", "dan's note").encode()).statusCode());
        // eve votes on the same pair under her own name; she cannot vote as dan, nor read his vote.
        assertEquals(201, eve.withCsrf().post("/api/preferences", new JsonObject().put("pair_id", pair)
                .put("choice", "a").put("annotator", "dan").encode()).statusCode());
        assertEquals(List.of(pair + ":b"), votesOf("dan"));
        assertEquals(List.of(pair + ":a"), votesOf("eve"));
        JsonArray eveSees = new JsonObject(eve.caller().get("/api/votes/latest").body()).getJsonArray("votes");
        assertFalse(eveSees.encode().contains("dan"), eveSees.encode());
        JsonArray vicSees = new JsonObject(vic.caller().get("/api/votes/latest").body()).getJsonArray("votes");
        assertTrue(vicSees.encode().contains("dan's note"), vicSees.encode());
        assertEquals(1L, new JsonObject(eve.caller().get("/api/progress").body()).getLong("votes"));

        for (Session s : List.of(vic, dan)) {
            assertEquals(401, s.caller().get("/api/annotators").statusCode());
            assertEquals(401, s.withCsrf().post("/api/annotators", new JsonObject().put("name", "mallory")
                    .encode()).statusCode());
            assertEquals(401, s.withCsrf().post("/api/invites", new JsonObject().put("name", "dan").encode())
                    .statusCode());
            assertEquals(401, s.withCsrf().post("/api/guidelines", new JsonObject().put("body", "x").encode())
                    .statusCode());
        }
    }

    @Test
    void anAdminAccountAdministersFromItsSession() throws Exception {
        Caller admin = Caller.from(8).admin();
        create(admin, "ada", "admin", false);
        Session ada = signIn(Caller.from(8), invite(admin, "ada"));
        assertEquals(200, ada.caller().get("/api/annotators").statusCode());
        assertEquals(403, ada.caller().post("/api/annotators", new JsonObject().put("name", "noname").encode())
                .statusCode(), "a cookie write without the CSRF token");
        assertEquals(201, ada.withCsrf().post("/api/annotators", new JsonObject().put("name", "frank").encode())
                .statusCode());
    }

    @Test
    void guidelinesAreVersionedAndEveryoneReadsTheCurrentOne() throws Exception {
        Caller admin = Caller.from(10).admin();
        Integer current = new JsonObject(admin.get("/api/progress").body()).getInteger("guideline_version");
        int before = current == null ? 0 : current;  // null: none written yet
        var v1 = admin.post("/api/guidelines", new JsonObject().put("format", "markdown")
                .put("body", "# Rules\n\nPrefer **helpful** answers.").encode());
        assertEquals(201, v1.statusCode(), v1.body());
        var v2 = admin.post("/api/guidelines", new JsonObject().put("format", "text").put("body", "Be careful.")
                .encode());
        assertEquals(before + 2, new JsonObject(v2.body()).getInteger("version"));
        create(admin, "gina", "annotator", false);
        Session gina = signIn(Caller.from(10), invite(admin, "gina"));
        JsonObject g = new JsonObject(gina.caller().get("/api/guidelines").body());
        assertEquals(before + 2, g.getInteger("version"));
        assertEquals("text", g.getString("format"));
        assertEquals("Be careful.", g.getString("body"));
        assertEquals("admin", g.getString("created_by"));
        assertEquals(before + 2, new JsonObject(gina.caller().get("/api/progress").body())
                .getInteger("guideline_version"));
        assertEquals(400, admin.post("/api/guidelines", new JsonObject().put("format", "html").put("body", "<b>")
                .encode()).statusCode());
    }

    @Test
    void wrongCodesFromOneClientGet429() throws Exception {
        Caller guesser = Caller.from(9);
        int refused = 0;
        int limited = 0;
        String retryAfter = null;
        for (int i = 0; i < 100; i++) {
            var r = guesser.post("/api/session", new JsonObject().put("code", Secrets.newSecret()).encode());
            if (r.statusCode() == 401) {
                refused++;
            } else {
                assertEquals(429, r.statusCode(), r.body());
                limited++;
                retryAfter = r.headers().firstValue("Retry-After").orElse(null);
            }
        }
        // auth_failures_per_minute = 10: ten guesses are answered, the other ninety are not even checked.
        assertEquals(10, refused);
        assertEquals(90, limited);
        assertNotNull(retryAfter);
        assertTrue(Integer.parseInt(retryAfter) >= 1, retryAfter);
        // While limited, a valid code is refused too (checking it would answer a guess), and so are session cookies.
        Caller admin = Caller.from(11).admin();
        create(admin, "hank", "annotator", false);
        String code = invite(admin, "hank");
        assertEquals(429, guesser.post("/api/session", new JsonObject().put("code", code).encode()).statusCode());
        assertEquals(429, guesser.with("Cookie", Auth.SESSION_COOKIE + "=" + Secrets.newSecret()).get("/api/me")
                .statusCode());
        // Another client is not limited by this one.
        assertEquals(200, Caller.from(11).post("/api/session", new JsonObject().put("code", code).encode())
                .statusCode());
    }

    /** Whatever secrets the other tests handed out before it, and its own: none of them is in the file. */
    @Test
    void theDatabaseFileHoldsNoUsableSecret() throws Exception {
        Caller admin = Caller.from(12).admin();
        String token = create(admin, "ivan", "annotator", true).getString("token");
        String code = invite(admin, "ivan");
        signIn(Caller.from(12), code);
        String unused = invite(admin, "ivan");
        // Read the file and its WAL as bytes: committed rows may be in either.
        String bytes = new String(Files.readAllBytes(server.config().dataPath().resolve(PairwiseServer.DB_FILE)),
                StandardCharsets.ISO_8859_1);
        Path wal = server.config().dataPath().resolve(PairwiseServer.DB_FILE + "-wal");
        if (Files.exists(wal)) {
            bytes += new String(Files.readAllBytes(wal), StandardCharsets.ISO_8859_1);
        }
        // What is there is the digest: proof that these are the right bytes and the rows are in them.
        assertTrue(bytes.contains(Secrets.digest(token)), "the token's digest is stored");
        assertTrue(bytes.contains(Secrets.digest(unused)), "the invite's digest is stored");
        assertTrue(secrets.size() >= 4, secrets::toString);
        for (String secret : secrets) {
            assertFalse(bytes.contains(secret), "a secret in clear in the database file");
            assertFalse(bytes.contains(secret.toUpperCase(java.util.Locale.ROOT)));
        }
        // A digest is not a credential: presented as a token or a code, it opens nothing.
        assertEquals(401, Caller.from(12).with("Authorization", "Bearer " + Secrets.digest(token)).get("/api/me")
                .statusCode());
        assertEquals(401, Caller.from(12).post("/api/session", new JsonObject().put("code", Secrets.digest(unused))
                .encode()).statusCode());
    }

    static String status(String name, String status) {
        return new JsonObject().put("name", name).put("status", status).encode();
    }

    static List<String> votesOf(String annotator) throws Exception {
        List<String> out = new ArrayList<>();
        try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + server.config().dataPath()
                .resolve(PairwiseServer.DB_FILE)); var ps = c.prepareStatement(
                "SELECT pair_id, choice FROM preferences WHERE annotator = ? ORDER BY id")) {
            ps.setString(1, annotator);
            try (var rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1) + ":" + rs.getString(2));
                }
            }
        }
        return out;
    }
}
