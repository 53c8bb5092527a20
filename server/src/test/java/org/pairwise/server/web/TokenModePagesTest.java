package org.pairwise.server.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.ExpectedConditions;

/**
 * Both pages in a real browser against a token-mode server, under the server's Content-Security-Policy: an annotator
 * votes with their token; the dashboard shows nothing of anyone's votes without a token and everything with a
 * viewer's; and neither page does anything the policy blocks (no inline scripts or styles, uPlot from /webjars).
 */
@Timeout(600)
class TokenModePagesTest {
    static final String ANN_TOKEN = "ann-browser-token-1", VIEWER_TOKEN = "vic-browser-token-1";
    /** Records every CSP violation the page causes, installed before any of its scripts run. */
    static final String CSP_RECORDER = "window.__csp = []; document.addEventListener('securitypolicyviolation', "
            + "(e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));";
    @RegisterExtension
    static final TestServer server = TestServer.forPages(Map.of("annotation", "token", "annotator_tokens",
            "ann:" + ANN_TOKEN, "viewer_tokens", "vic:" + VIEWER_TOKEN));

    @Test
    void anAnnotatorVotesWithTheirTokenAndAViewerSeesItOnTheDashboard() throws Exception {
        String pair;
        try (Browser b = Browser.open()) {
            b.driver.executeCdpCommand("Page.addScriptToEvaluateOnNewDocument", Map.of("source", CSP_RECORDER));
            b.driver.get(server.url("/"));
            b.await(Duration.ofSeconds(30)).until(ExpectedConditions.visibilityOfElementLocated(
                    By.id("annotator-token")));
            b.driver.findElement(By.id("annotator-token")).sendKeys(ANN_TOKEN, Keys.TAB);
            b.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBe(By.id("whoami"), "ann"));
            pair = AnnotatorPageTest.awaitVotable(b, null);
            b.driver.findElement(By.id("prompt-heading")).click();
            new Actions(b.driver).sendKeys("1").perform();
            b.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBe(By.id("vote-count"), "1"));
            assertEquals(List.of(), b.driver.executeScript("return window.__csp;"), "CSP violations on /");
        }
        List<String[]> votes = server.votesOf("ann");
        assertEquals(1, votes.size());
        assertArrayEquals(new String[] {pair, "a"}, votes.getFirst());

        try (Browser b = Browser.open()) {
            b.driver.executeCdpCommand("Page.addScriptToEvaluateOnNewDocument", Map.of("source", CSP_RECORDER));
            b.driver.get(server.url("/dashboard.html"));
            b.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBe(By.id("live"),
                    "needs a viewer or admin token"));
            assertEquals("", b.driver.findElement(By.id("latest")).getText(), "no token, no votes");

            b.driver.findElement(By.id("admin-token")).sendKeys(VIEWER_TOKEN, Keys.TAB);
            b.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBe(By.id("live"), "live"));
            b.await(Duration.ofSeconds(30)).until(d -> d.findElement(By.id("latest")).getText().contains("ann"));
            assertTrue(b.driver.findElement(By.id("latest-scope")).getText().contains("viewer vic"));
            assertEquals("1", b.driver.findElement(By.id("votes-total")).getText());
            // The charts drew (uPlot, from /webjars, under the policy): a canvas in each figure.
            Object canvases = b.driver.executeScript("return document.querySelectorAll('.chart canvas').length;");
            assertTrue(((Long) canvases) >= 6, "charts: " + canvases);
            b.screenshot("dashboard-viewer");
            assertEquals(List.of(), b.driver.executeScript("return window.__csp;"), "CSP violations on the dashboard");

            // The recorder does see what the policy blocks: an inline style attribute is one.
            b.driver.executeScript("document.body.setAttribute('style', 'color: red');");
            b.await(Duration.ofSeconds(5)).until(d -> !((List<?>) b.driver.executeScript("return window.__csp;"))
                    .isEmpty());
        }
    }
}
