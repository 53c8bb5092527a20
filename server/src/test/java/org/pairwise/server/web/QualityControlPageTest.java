package org.pairwise.server.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;

/**
 * The dashboard's quality control in a real browser: after two gold pairs (ann right on both, bob wrong on both,
 * which the server's own check flags), a skip and a commented vote, a viewer sees the gold accuracy with its
 * interval, the skips by reason, the automatic flag with its reason, the lease-to-vote medians, and, clicking a
 * pair, every vote and skip on it; the admin un-flags bob with the button.
 */
@Timeout(600)
class QualityControlPageTest {
    static final String ADMIN = "quality-control-admin-token-0123456789";
    static final String VIEWER = "vic-control-viewer-token";
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        Browser.assumeInstalled();
        server = TestServer.start(Map.of("annotation", "token", "admin_token", ADMIN, "annotator_tokens",
                "ann:" + token("ann") + ",bob:" + token("bob"), "viewer_tokens", "vic:" + VIEWER, "gold_rate", "1.0",
                "votes_per_pair", "2", "flag_min_gold_accuracy", "0.9", "flag_min_votes", "2"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    static String token(String name) {
        return name + "-control-token-1";
    }

    static HttpResponse<String> send(String token, String path, String body, String type) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url(path)))
                .header("Authorization", "Bearer " + token);
        b = body == null ? b.GET() : b.header("Content-Type", type).POST(HttpRequest.BodyPublishers.ofString(body));
        return server.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonObject ok(String token, String path, JsonObject body) throws Exception {
        HttpResponse<String> r = send(token, path, body == null ? null : body.encode(), "application/json");
        assertTrue(r.statusCode() / 100 == 2, path + ": " + r.statusCode() + " " + r.body());
        return new JsonObject(r.body());
    }

    static String next(String who) throws Exception {
        HttpResponse<String> r = null;
        for (int i = 0; i < 600; i++) {  // the pool fills in the background after start-up
            r = send(token(who), "/api/pairs/next", null, null);
            if (r.statusCode() == 200) {
                return new JsonObject(r.body()).getString("pair_id");
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no pair for " + who + ": " + r.body());
    }

    @Test
    void aViewerSeesGoldSkipsFlagsAndThePairViewAndTheAdminUnflags() throws Exception {
        HttpResponse<String> up = send(ADMIN, "/api/gold", """
                {"prompt": "Is water wet?", "chosen": "Yes.", "rejected": "Purple."}
                {"prompt": "2+2?", "chosen": "4", "rejected": "5"}
                """, "text/plain");
        assertEquals(201, up.statusCode(), up.body());
        Map<String, String> right = new HashMap<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + server.dbFile());
             ResultSet rs = c.createStatement().executeQuery("SELECT pair_id, gold_choice FROM pairs"
                     + " WHERE kind = 'gold'")) {
            while (rs.next()) {
                right.put(rs.getString(1), rs.getString(2));
            }
        }
        String g1 = null;
        for (int i = 0; i < 2; i++) {
            String a = next("ann");
            g1 = g1 == null ? a : g1;
            ok(token("ann"), "/api/preferences", new JsonObject().put("pair_id", a).put("choice", right.get(a))
                    .put("comment", i == 0 ? "easy one" : null));
            String b = next("bob");
            ok(token("bob"), "/api/preferences", new JsonObject().put("pair_id", b)
                    .put("choice", right.get(b).equals("a") ? "b" : "a"));
        }
        String skipped = next("ann");
        ok(token("ann"), "/api/skips", new JsonObject().put("pair_id", skipped).put("reason", "prompt_unclear")
                .put("comment", "what is asked?"));
        String policy = next("ann");
        ok(token("ann"), "/api/preferences", new JsonObject().put("pair_id", policy).put("choice", "b"));
        // The server checks every 5 s: bob, 0 of 2 (interval 0-0.66, under 0.9), is flagged.
        for (int i = 0; i < 300; i++) {
            JsonArray flags = ok(ADMIN, "/api/quality/flags", null).getJsonArray("flags");
            if (!flags.isEmpty()) {
                break;
            }
            Thread.sleep(100);
        }
        // Lease-to-vote gaps rewritten behind the server's back: ann 2, 6, 10 s (median 6.0), bob 3, 5 s (4.0).
        Map<String, long[]> gaps = Map.of("ann", new long[] {2_000, 6_000, 10_000}, "bob", new long[] {3_000, 5_000});
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + server.dbFile())) {
            for (var e : gaps.entrySet()) {
                List<String[]> votes = new ArrayList<>();
                try (PreparedStatement ps = c.prepareStatement("SELECT id, pair_id FROM preferences"
                        + " WHERE annotator = ? ORDER BY id")) {
                    ps.setString(1, e.getKey());
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            votes.add(new String[] {rs.getString(1), rs.getString(2)});
                        }
                    }
                }
                assertEquals(e.getValue().length, votes.size());
                for (int i = 0; i < votes.size(); i++) {
                    long leased = 1_700_000_000_000L + i * 600_000L;
                    try (PreparedStatement a = c.prepareStatement("UPDATE assignments SET leased_at = ? WHERE pair_id"
                            + " = ? AND annotator = ?");
                         PreparedStatement v = c.prepareStatement("UPDATE preferences SET created_at = ? WHERE id = ?")) {
                        a.setLong(1, leased);
                        a.setString(2, votes.get(i)[1]);
                        a.setString(3, e.getKey());
                        assertEquals(1, a.executeUpdate());
                        v.setLong(1, leased + e.getValue()[i]);
                        v.setString(2, votes.get(i)[0]);
                        assertEquals(1, v.executeUpdate());
                    }
                }
            }
        }

        try (Browser b = Browser.open()) {
            b.driver.executeCdpCommand("Page.addScriptToEvaluateOnNewDocument",
                    Map.of("source", TokenModePagesTest.CSP_RECORDER));
            b.driver.get(server.url("/dashboard.html"));
            b.driver.findElement(By.id("admin-token")).sendKeys(VIEWER, Keys.TAB);
            WebElement panel = b.driver.findElement(By.id("quality"));
            b.await(Duration.ofSeconds(30)).until(ExpectedConditions.visibilityOf(panel));
            b.await(Duration.ofSeconds(30)).until(d -> QualityPanelTest.rows(d.findElement(By.id("quality-control")))
                    .size() == 2);

            List<List<String>> control = QualityPanelTest.rows(b.driver.findElement(By.id("quality-control")));
            // ann 2/2: Wilson 0.3424-1 (lower end 2/(2 + z²)); bob 0/2: 0-0.6576 (upper end z²/(2 + z²)).
            assertEquals(List.of("ann", "100.0% (2/2)", "34.2%–100.0%", "0", "0", "1", "–", "–", "–"),
                    control.get(0));
            assertEquals(List.of("bob", "0.0% (0/2)", "0.0%–65.8%", "0", "0", "0", "flagged",
                    "gold accuracy 0.00 (95% CI 0.00-0.66) below 0.90 after 2 gold votes", "auto"), control.get(1));
            List<List<String>> pace = QualityPanelTest.rows(b.driver.findElement(By.id("quality-annotators")));
            assertEquals(List.of("ann", "3", "6.0"), List.of(pace.get(0).get(0), pace.get(0).get(1),
                    pace.get(0).get(3)));
            assertEquals(List.of("bob", "2", "4.0"), List.of(pace.get(1).get(0), pace.get(1).get(1),
                    pace.get(1).get(3)));
            assertTrue(b.driver.findElement(By.id("quality-rule")).getText()
                    .startsWith("Flagged automatically when gold accuracy below 90.0% with 95% confidence"));
            assertEquals(false, b.driver.findElement(By.cssSelector("#quality .admin-only")).isDisplayed(),
                    "a viewer has no flag buttons");

            // The pair view: the first gold pair's two votes, then the skipped pair's skip.
            open(b, g1);
            List<List<String>> votes = QualityPanelTest.rows(b.driver.findElement(By.id("pair-view-votes")));
            assertEquals(2, votes.size(), votes.toString());
            String wrong = right.get(g1).equals("a") ? "b" : "a";
            assertEquals(List.of("ann", right.get(g1), "easy one", "–", "no"), pick(votes.get(0)));
            assertEquals(List.of("bob", wrong, "–", "–", "no"), pick(votes.get(1)));
            assertTrue(b.driver.findElement(By.id("pair-view-outcome")).getText().startsWith("gold (right: "
                    + right.get(g1).toUpperCase()));
            open(b, skipped);
            List<List<String>> skips = QualityPanelTest.rows(b.driver.findElement(By.id("pair-view-skips")));
            assertEquals(List.of("ann", "prompt_unclear", "what is asked?"), skips.get(0).subList(0, 3));
            b.screenshot("quality-control");
            assertEquals(List.of(), b.driver.executeScript("return window.__csp;"), "CSP violations");

            // The admin's button un-flags bob: the row says who, and the store has it.
            WebElement token = b.driver.findElement(By.id("admin-token"));
            token.clear();
            token.sendKeys(ADMIN, Keys.TAB);
            By unflag = By.cssSelector("#quality-control tr[data-annotator='bob'] button");
            b.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBe(unflag, "Un-flag"));
            b.driver.findElement(By.id("quality-flag-reason")).sendKeys("talked it through");
            b.driver.findElement(unflag).click();
            b.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBe(unflag, "Flag"));
            List<String> bob = QualityPanelTest.rows(b.driver.findElement(By.id("quality-control"))).get(1);
            assertEquals(List.of("cleared", "talked it through", "admin (admin)", "Flag"), bob.subList(6, 10));
            JsonObject flag = ok(ADMIN, "/api/quality/flags", null).getJsonArray("flags").getJsonObject(0);
            assertEquals(List.of("bob", false, "admin"), List.of(flag.getString("annotator"),
                    flag.getBoolean("flagged"), flag.getString("changed_by")));
        }
    }

    /** Clicks the pair's row in the recent pairs and waits for its view. */
    static void open(Browser b, String pairId) {
        By row = By.cssSelector("#quality-recent tr[data-pair='" + pairId + "']");
        b.await(Duration.ofSeconds(30)).until(ExpectedConditions.elementToBeClickable(row));
        b.driver.findElement(row).click();
        b.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBe(By.id("pair-view-id"), pairId));
    }

    /** annotator, choice, comment, guidelines, withdrawn. */
    static List<String> pick(List<String> row) {
        return List.of(row.get(1), row.get(2), row.get(4), row.get(5), row.get(6));
    }
}
