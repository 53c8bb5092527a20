package org.pairwise.server.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.By;
import org.openqa.selenium.support.ui.ExpectedConditions;

/**
 * What the annotator page tells a person besides the two texts: the vote's confirmation, for as long as its pair is
 * on screen; which response was cut at max_new_tokens (the store's finish reason, "length"); and an icon of its own.
 */
@Timeout(600)
class AnnotatorPageMarksTest {
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        if (!Browser.installed()) {
            return;  // each test then skips with the reason, visible per test in the report
        }
        // Six tokens: stories260K rarely ends a story that soon, so most responses are cut.
        server = TestServer.start(Map.of("max_new_tokens", "6"));
    }

    @BeforeEach
    void needsBrowser() {
        Browser.assumeInstalled();
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void recordedLeavesWhenTheNextPairArrives() throws Exception {
        try (Browser b = Browser.open()) {
            b.driver.get(server.url("/"));
            String first = AnnotatorPageTest.awaitVotable(b, null);
            b.driver.findElement(By.id("vote-a")).click();
            b.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBe(By.id("vote-count"), "1"));
            assertEquals("Recorded", b.driver.findElement(By.id("status")).getText());
            AnnotatorPageTest.awaitVotable(b, first);
            assertEquals("", b.driver.findElement(By.id("status")).getText(),
                    "the confirmation was about the previous pair");
        }
    }

    @Test
    void aResponseCutAtTheTokenLimitIsMarkedAndOnlyThatOne() throws Exception {
        try (Browser b = Browser.open()) {
            b.driver.get(server.url("/"));
            int cut = 0;
            String previous = null;
            for (int i = 0; i < 4; i++) {
                String pair = AnnotatorPageTest.awaitVotable(b, previous);
                String[] finish = server.finishOf(pair);
                String[] panes = {"a", "b"};
                for (int side = 0; side < 2; side++) {
                    boolean marked = b.driver.findElement(By.id("cut-" + panes[side])).isDisplayed();
                    assertEquals("length".equals(finish[side]), marked,
                            "pair " + pair + " side " + panes[side] + " finished by " + finish[side]);
                    cut += marked ? 1 : 0;
                }
                if (i == 0) {
                    b.screenshot("annotator-cut-marks");
                }
                b.driver.findElement(By.id("vote-tie")).click();
                previous = pair;
            }
            assertTrue(cut > 0, "six-token responses: some were cut");
            assertEquals("Cut off: this response reached the length limit (max_new_tokens).",
                    b.driver.findElement(By.cssSelector(".cut")).getDomProperty("textContent"));
        }
    }

    @Test
    void bothPagesHaveAnIconAndTheServerHasOneAtTheUsualPlace() throws Exception {
        try (Browser b = Browser.open()) {
            for (String page : new String[] {"/", "/dashboard.html"}) {
                b.driver.get(server.url(page));
                String href = b.driver.findElement(By.cssSelector("link[rel=icon]")).getDomProperty("href");
                HttpResponse<String> icon = server.get(java.net.URI.create(href).getPath());
                assertEquals(200, icon.statusCode(), page + ": " + href);
                assertTrue(icon.headers().firstValue("Content-Type").orElse("").startsWith("image/svg+xml"));
                assertTrue(icon.body().startsWith("<svg"), icon.body());
            }
        }
        // Browsers (and tools) ask for /favicon.ico on pages that name no icon, such as the API's JSON.
        HttpResponse<String> ico = server.get("/favicon.ico");
        assertEquals(200, ico.statusCode());
        assertTrue(ico.headers().firstValue("Content-Type").orElse("").startsWith("image/"), ico.headers().map()
                .toString());
    }
}
