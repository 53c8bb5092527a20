package org.pairwise.server.web;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
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
import org.pairwise.server.quality.HandExample;

/**
 * The dashboard's "Annotators' quality" panel in a real browser: after the hand-worked example's votes (cast over
 * HTTP by four annotators with their own tokens), a viewer's token shows the example's figures as the hand
 * computation prints them; an annotator's token does not show the panel.
 */
@Timeout(600)
class QualityPanelTest {
    static final String ADMIN = "quality-panel-admin-token-0123456789";
    static final String VIEWER = "vic-panel-viewer-token";
    static final List<String> NAMES = List.of("ann", "ben", "cat", "dan");
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        Browser.assumeInstalled();  // skips the class on a machine without the browser
        server = TestServer.start(Map.of("annotation", "token", "admin_token", ADMIN, "annotator_tokens",
                String.join(",", NAMES.stream().map(n -> n + ":" + token(n)).toList()), "viewer_tokens",
                "vic:" + VIEWER));
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    static String token(String name) {
        return name + "-panel-token-1";
    }

    static HttpResponse<String> send(String token, String path, String json) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url(path)))
                .header("Authorization", "Bearer " + token);
        b = json == null ? b.GET() : b.header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json));
        return server.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aViewerSeesTheHandExamplesFiguresAndAnAnnotatorNoPanel() throws Exception {
        Map<String, String> pairIds = new HashMap<>();
        for (String p : HandExample.PAIRS) {
            HttpResponse<String> next = null;
            for (int i = 0; i < 600; i++) {  // the pool fills in the background after start-up
                next = send(token("ann"), "/api/pairs/next", null);
                if (next.statusCode() == 200) {
                    break;
                }
                Thread.sleep(100);
            }
            assertEquals(200, next.statusCode(), next.body());
            pairIds.put(p, new JsonObject(next.body()).getString("pair_id"));
        }
        for (HandExample.Vote v : HandExample.VOTES) {
            HttpResponse<String> r = send(token(v.annotator()), "/api/preferences", new JsonObject()
                    .put("pair_id", pairIds.get(v.pair())).put("choice", v.choice()).encode());
            assertEquals(201, r.statusCode(), r.body());
        }

        try (Browser b = Browser.open()) {
            b.driver.executeCdpCommand("Page.addScriptToEvaluateOnNewDocument",
                    Map.of("source", TokenModePagesTest.CSP_RECORDER));
            b.driver.get(server.url("/dashboard.html"));
            WebElement panel = b.driver.findElement(By.id("quality"));
            assertEquals(false, panel.isDisplayed(), "nobody signed in: no panel");
            b.driver.findElement(By.id("admin-token")).sendKeys(VIEWER, Keys.TAB);
            b.await(Duration.ofSeconds(30)).until(ExpectedConditions.visibilityOf(panel));
            b.await(Duration.ofSeconds(30)).until(d -> rows(d.findElement(By.id("quality-annotators"))).size() == 4);

            List<List<String>> annotators = rows(b.driver.findElement(By.id("quality-annotators")));
            assertEquals(List.of("ann", "ben", "cat", "dan"), annotators.stream().map(List::getFirst).toList());
            // votes, ..., agreement (agreed/compared), interval, tied: the hand computation, printed as the panel does
            assertEquals(List.of("4", "50.0% (1/2)", "9.5%–90.5%", "2"), pick(annotators.get(0)));
            assertEquals(List.of("4", "50.0% (1/2)", "9.5%–90.5%", "2"), pick(annotators.get(1)));
            assertEquals(List.of("3", "33.3% (1/3)", "6.1%–79.2%", "0"), pick(annotators.get(2)));
            assertEquals(List.of("dan", "1", "–", "–", "–", "–", "0"), annotators.get(3));
            assertEquals(String.format("%.3f", HandExample.FLEISS), text(b, "quality-fleiss"));
            assertEquals(String.format("%.3f", HandExample.ALPHA), text(b, "quality-alpha"));
            assertEquals("4", text(b, "quality-shared"));
            assertEquals("12", text(b, "quality-votes"));

            // At the default of 10 shared pairs no two annotators qualify; at 3, all three pairs do.
            assertEquals(true, b.driver.findElement(By.id("quality-no-pairs")).isDisplayed());
            WebElement min = b.driver.findElement(By.id("quality-min-shared"));
            min.clear();
            min.sendKeys("3", Keys.TAB);
            b.await(Duration.ofSeconds(30)).until(d -> rows(d.findElement(By.id("quality-pairs"))).size() == 3);
            assertEquals(List.of(List.of("ann", "ben", "4", "75.0%", "0.500"),
                    List.of("ann", "cat", "3", "33.3%", "-0.500"), List.of("ben", "cat", "3", "33.3%", "-0.500")),
                    rows(b.driver.findElement(By.id("quality-pairs"))));
            assertEquals(false, b.driver.findElement(By.id("quality-no-pairs")).isDisplayed());
            b.screenshot("quality-panel");
            assertEquals(List.of(), b.driver.executeScript("return window.__csp;"), "CSP violations");

            WebElement token = b.driver.findElement(By.id("admin-token"));
            token.clear();
            token.sendKeys(token("ann"), Keys.TAB);
            b.await(Duration.ofSeconds(30)).until(ExpectedConditions.invisibilityOf(panel));
        }
    }

    /** votes, agreement, interval, tied. */
    static List<String> pick(List<String> row) {
        return List.of(row.get(1), row.get(4), row.get(5), row.get(6));
    }

    static String text(Browser b, String id) {
        return b.driver.findElement(By.id(id)).getText();
    }

    static List<List<String>> rows(WebElement body) {
        return body.findElements(By.tagName("tr")).stream()
                .map(tr -> tr.findElements(By.tagName("td")).stream().map(WebElement::getText).toList()).toList();
    }
}
