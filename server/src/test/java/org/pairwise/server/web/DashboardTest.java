package org.pairwise.server.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;

/** The dashboard in a real browser: live charts from the event stream, and the admin export. */
@Timeout(600)
class DashboardTest {
    static final String ADMIN_TOKEN = "browser-test-admin-token-0123456789";
    @RegisterExtension
    static final TestServer server = TestServer.forPages(Map.of("admin_token", ADMIN_TOKEN));

    @Test
    void theLossChartAndStepCounterGrowAfterATrainingStep() throws Exception {
        try (Browser b = Browser.open()) {
            b.driver.get(server.url("/dashboard.html"));
            // Other people's votes are for a viewer or the admin: the dashboard sends the token it is given.
            b.driver.findElement(By.id("admin-token")).sendKeys(ADMIN_TOKEN, org.openqa.selenium.Keys.TAB);
            b.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBePresentInElementLocated(
                    By.id("latest-scope"), "everyone's"));
            // Only votes cast after the stream is open can prove that updates arrive live, not from the first load.
            b.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBe(By.id("live"), "live"));
            WebElement loss = b.driver.findElement(By.id("chart-loss"));
            int pointsBefore = points(loss);
            String stepBefore = b.driver.findElement(By.id("step")).getText();

            String voter = vote("a");

            // batch_size 1: this one A/B vote is a full batch, so a DPO step follows.
            b.await(Duration.ofSeconds(120)).until(d -> points(loss) > pointsBefore);
            String last = loss.getDomAttribute("data-last");
            assertTrue(Double.isFinite(Double.parseDouble(last)), "the new point is a loss value, got " + last);
            b.await(Duration.ofSeconds(30)).until(d -> !d.findElement(By.id("step")).getText().equals(stepBefore));
            assertTrue(points(b.driver.findElement(By.id("chart-accuracies"))) > 0);
            assertTrue(points(b.driver.findElement(By.id("chart-rewards"))) > 0);
            // The vote itself arrived over the stream too.
            b.await(Duration.ofSeconds(30)).until(d -> d.findElement(By.id("latest")).getText()
                    .contains(voter));
            assertTrue(Integer.parseInt(b.driver.findElement(By.id("votes-total")).getText()) >= 1);
            b.screenshot("dashboard");
        }
    }

    @Test
    void exportNeedsTheAdminTokenAndDownloadsWithIt() throws Exception {
        vote("b");
        try (Browser b = Browser.open()) {
            b.driver.get(server.url("/dashboard.html"));
            WebElement token = b.driver.findElement(By.id("admin-token"));
            By status = By.id("admin-status");

            token.sendKeys("not-the-admin-token");
            b.driver.findElement(By.id("export-standard")).click();
            b.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBePresentInElementLocated(status,
                    "the admin token was not accepted"));

            token.clear();
            token.sendKeys(ADMIN_TOKEN);
            b.driver.findElement(By.id("export-standard")).click();
            b.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBePresentInElementLocated(status,
                    "Saved"));
            // A non-empty file: the one vote above is an A/B vote, so it is exported.
            String text = b.driver.findElement(status).getText();
            assertTrue(!text.contains("(0 bytes)"), text);
            assertEquals(ADMIN_TOKEN, b.driver.executeScript(
                    "return sessionStorage.getItem('pairwise.adminToken');"));
        }
    }

    static int points(WebElement chart) {
        String p = chart.getDomAttribute("data-points");
        return p == null || p.isEmpty() ? 0 : Integer.parseInt(p);
    }

    /** Casts a vote over HTTP, as another person's browser would; returns the annotator the server named. */
    private static String vote(String choice) throws Exception {
        HttpResponse<String> next = null;
        // The pool fills in the background after start-up.
        for (int i = 0; i < 600; i++) {
            next = server.get("/api/pairs/next");
            if (next.statusCode() == 200) {
                break;
            }
            Thread.sleep(100);
        }
        assertEquals(200, next.statusCode(), next.body());
        String pairId = new JsonObject(next.body()).getString("pair_id");
        HttpResponse<String> r = server.postJson("/api/preferences", new JsonObject()
                .put("pair_id", pairId).put("choice", choice).encode());
        assertEquals(201, r.statusCode(), r.body());
        return new JsonObject(r.body()).getString("annotator");
    }
}
