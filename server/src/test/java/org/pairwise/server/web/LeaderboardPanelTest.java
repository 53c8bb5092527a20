package org.pairwise.server.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.pairwise.server.PairwiseServer;
import org.pairwise.server.TestServers;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.PreferenceStore.PairRecord;
import org.pairwise.server.store.PreferenceStore.VoteRequest;
import org.pairwise.server.store.SqlitePreferenceStore;

/**
 * The dashboard's leaderboard panel in a real browser, on battle votes written into the data dir before start (v1
 * beats v0 30 times in 40, v2 10 times in 40): a viewer sees the versions ranked with their intervals, one SVG point
 * per version and per win rate against v0, and the guard's state; after an admin rollback the panel says publishing
 * is held and why. An annotator sees no panel.
 */
@Timeout(600)
class LeaderboardPanelTest {
    static final String ADMIN = "leaderboard-panel-admin-token-0123456789";
    static final String VIEWER = "vic-board-viewer-token", ANN = "ann-board-token-1";

    @TempDir
    static Path dir;
    static PairwiseServer server;
    static final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        Browser.assumeInstalled();
        Files.createDirectories(dir);
        try (SqlitePreferenceStore store = new SqlitePreferenceStore(dir.resolve(PairwiseServer.DB_FILE), 10_000)) {
            long prompt = store.addPrompt("test", "once upon a time", null).join();
            for (int i = 0; i < 80; i++) {
                int v = i < 40 ? 1 : 2;
                boolean wins = i < 40 ? i < 30 : i < 50;
                String id = "b" + i;
                store.addBattlePair(new PairRecord(id, prompt, "once upon a time", new int[] {1}, "x", new int[] {3},
                        new float[] {-1f}, "eos", "y", new int[] {4}, new float[] {-1f}, "eos", true, v, "{}", 0), 1, v,
                        0).join();
                store.recordVote(new VoteRequest(id, wins ? Choice.A : Choice.B, "judge" + (i % 5), null, null))
                        .join();
            }
        }
        server = PairwiseServer.start(TestServers.config(dir, Map.of("annotation", "token", "admin_token", ADMIN,
                "annotator_tokens", "ann:" + ANN, "viewer_tokens", "vic:" + VIEWER, "eval_fraction", "0")));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    static List<String> rows(WebElement body) {
        return body.findElements(By.tagName("tr")).stream()
                .map(tr -> tr.findElements(By.tagName("td")).getFirst().getText()).toList();
    }

    @Test
    void aViewerSeesTheRankedVersionsAndWhyPublishingIsHeld() throws Exception {
        try (Browser b = Browser.open()) {
            b.driver.executeCdpCommand("Page.addScriptToEvaluateOnNewDocument",
                    Map.of("source", TokenModePagesTest.CSP_RECORDER));
            b.driver.get(server.url() + "/dashboard.html");
            WebElement panel = b.driver.findElement(By.id("leaderboard"));
            assertEquals(false, panel.isDisplayed(), "nobody signed in: no panel");
            b.driver.findElement(By.id("admin-token")).sendKeys(VIEWER, Keys.TAB);
            b.await(Duration.ofSeconds(30)).until(ExpectedConditions.visibilityOf(panel));
            b.await(Duration.ofSeconds(30)).until(d -> rows(d.findElement(By.id("leaderboard-rows"))).size() == 3);
            assertEquals(List.of("v1", "v0 (served)", "v2"), rows(b.driver.findElement(By.id("leaderboard-rows"))));
            assertEquals(3, b.driver.findElements(By.cssSelector("#leaderboard-strengths g.version")).size());
            assertEquals(2, b.driver.findElements(By.cssSelector("#leaderboard-vs-reference circle")).size());
            assertEquals("80", b.driver.findElement(By.id("leaderboard-votes")).getText());
            assertEquals("Publishing on. Serving v0.", b.driver.findElement(By.id("leaderboard-guard")).getText());

            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(server.url()
                    + "/api/policy/rollback")).header("Authorization", "Bearer " + ADMIN)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"version\": 0}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            b.driver.findElement(By.id("leaderboard-refresh")).click();
            b.await(Duration.ofSeconds(30)).until(d -> d.findElement(By.id("leaderboard-guard")).getText()
                    .startsWith("Publishing held: rolled back to v0 by the admin"));
            assertTrue(b.driver.findElement(By.id("leaderboard-guard")).getAttribute("class").contains("err"));
            b.driver.executeScript("arguments[0].scrollIntoView()", panel);
            b.screenshot("leaderboard-panel");
            assertEquals(List.of(), b.driver.executeScript("return window.__csp;"), "CSP violations");

            WebElement token = b.driver.findElement(By.id("admin-token"));
            token.clear();
            token.sendKeys(ANN, Keys.TAB);
            b.await(Duration.ofSeconds(30)).until(ExpectedConditions.invisibilityOf(panel));
        }
    }
}
