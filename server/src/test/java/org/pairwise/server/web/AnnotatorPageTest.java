package org.pairwise.server.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.ExpectedConditions;

/**
 * A person on the annotator page, in a real browser against a real server and SQLite file: voting, the vote's
 * confirmation (for as long as its pair is on screen), which response was cut at max_new_tokens (the store's finish
 * reason, "length"), markup shown as text, the layout, and the page's icon.
 */
@Timeout(600)
class AnnotatorPageTest {
    /**
     * The server's only prompt, so every pooled pair shows markup as its prompt. The img's onerror is
     * the payload that matters: a script element set through innerHTML never runs, an img's onerror does.
     */
    static final String HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)> Once upon a time";

    static TestServer server;
    static Path prompts;

    @BeforeAll
    static void start() throws Exception {
        if (!Browser.installed()) {
            return;  // each test then skips with the reason, visible per test in the report
        }
        prompts = Files.createTempFile("pairwise-prompts-", ".txt");
        Files.writeString(prompts, HOSTILE + "\n");
        server = TestServer.start(Map.of("prompts", prompts.toString()));
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
        if (prompts != null) {
            Files.deleteIfExists(prompts);
        }
    }

    @Test
    void aMouseVoteIsConfirmedCountedAndStoredInSqlite() throws Exception {
        try (Browser b = Browser.open()) {
            b.driver.get(server.url("/"));
            String who = whoami(b);
            String pair = awaitVotable(b, null);

            b.screenshot("annotator");
            // The confirmation shows for 400 ms before the next pair clears it, less than one WebDriver round trip
            // on a busy machine: the page's own observer records every status it showed.
            b.driver.executeScript("window.__statuses = []; new MutationObserver(() => window.__statuses.push("
                    + "document.getElementById('status').textContent)).observe(document.getElementById('status'),"
                    + " {childList: true, characterData: true, subtree: true});");
            b.driver.findElement(By.id("vote-a")).click();

            b.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBe(By.id("vote-count"), "1"));
            List<?> shown = ((List<?>) b.driver.executeScript("return window.__statuses;")).stream()
                    .filter(t -> !"".equals(t)).toList();
            assertEquals("Recorded", shown.isEmpty() ? null : shown.getLast(), "statuses shown: " + shown);
            b.screenshot("annotator-recorded");
            // The next pair follows the confirmation, and it is a different pair.
            awaitVotable(b, pair);
            // Open mode: the browser votes as the anonymous identity its cookie stands for, shown on the page.
            List<String[]> votes = server.votesOf(who);
            assertEquals(1, votes.size(), "one click, one stored vote");
            assertArrayEquals(new String[] {pair, "a"}, votes.getFirst());
        }
    }

    @Test
    void keys1And2VoteForAAndBButNotWhileTypingInAField() throws Exception {
        try (Browser b = Browser.open()) {
            b.driver.get(server.url("/"));
            // Digits typed into a field must not vote: if they did, extra rows would show up below.
            String who = whoami(b);
            b.driver.findElement(By.id("ask-prompt")).sendKeys("keys-1234");
            String first = awaitVotable(b, null);
            // Leave the field the way a person does: click on the page, so keys go to the document.
            b.driver.findElement(By.id("prompt-heading")).click();

            new Actions(b.driver).sendKeys("1").perform();
            b.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBe(By.id("vote-count"), "1"));
            String second = awaitVotable(b, first);
            new Actions(b.driver).sendKeys("2").perform();
            b.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBe(By.id("vote-count"), "2"));
            awaitVotable(b, second);

            List<String[]> votes = server.votesOf(who);
            assertEquals(2, votes.size(), "two key presses, two stored votes");
            assertArrayEquals(new String[] {first, "a"}, votes.get(0));
            assertArrayEquals(new String[] {second, "b"}, votes.get(1));
        }
    }

    /**
     * The generated responses cannot be steered to contain a script tag (stories260K writes children's stories, the
     * demo model byte noise), so the markup travels the two ways the server does pass text through verbatim: a
     * pooled pair's prompt, and a prompt typed into the ask box whose responses are streamed. Both are shown on the
     * page; both must stay text.
     */
    @Test
    void markupInPromptsAndStreamedPairsIsShownAsText() throws Exception {
        try (Browser b = Browser.open()) {
            // Records alert() calls instead of blocking on them, installed before any of the page's scripts run.
            b.driver.executeCdpCommand("Page.addScriptToEvaluateOnNewDocument", Map.of("source",
                    "window.__alerts = []; window.alert = (m) => window.__alerts.push(String(m));"));
            b.driver.get(server.url("/"));
            String pooled = awaitVotable(b, null);
            assertEquals(HOSTILE, b.driver.findElement(By.id("prompt")).getDomProperty("textContent"));
            assertNoMarkupRendered(b);

            String typed = "<script>alert(3)</script><img src=y onerror=alert(4)> Lily";
            WebElement box = b.driver.findElement(By.id("ask-prompt"));
            box.sendKeys(typed);
            b.driver.findElement(By.id("ask-submit")).click();
            String asked = awaitVotable(b, pooled);
            assertTrue(b.driver.findElement(By.id("pair-meta")).getText().startsWith("(your prompt"));
            assertEquals(typed, b.driver.findElement(By.id("prompt")).getDomProperty("textContent"));
            assertTrue(!b.driver.findElement(By.id("response-a")).getDomProperty("textContent").isEmpty()
                    || !b.driver.findElement(By.id("response-b")).getDomProperty("textContent").isEmpty(),
                    "the streamed responses are on the page");
            assertNoMarkupRendered(b);
            b.screenshot("annotator-markup-as-text");

            // The asked pair is a real pair: a vote on it is stored like any other.
            b.driver.findElement(By.id("vote-b")).click();
            b.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBe(By.id("vote-count"), "1"));
            awaitVotable(b, asked);
            assertNoMarkupRendered(b);
        }
    }

    @Test
    void responsesSitSideBySideOnWideScreensAndStackOnNarrowOnes() throws Exception {
        try (Browser b = Browser.open()) {
            b.driver.get(server.url("/"));
            awaitVotable(b, null);
            WebElement a = b.driver.findElement(By.id("response-a"));
            WebElement bb = b.driver.findElement(By.id("response-b"));
            assertEquals(a.getRect().getY(), bb.getRect().getY(), "same row at 1280 px");
            assertTrue(bb.getRect().getX() > a.getRect().getX() + a.getRect().getWidth());

            b.driver.manage().window().setSize(new org.openqa.selenium.Dimension(420, 900));
            b.await(Duration.ofSeconds(10)).until(d -> bb.getRect().getY() > a.getRect().getY() + a.getRect()
                    .getHeight());
            assertEquals(a.getRect().getX(), bb.getRect().getX(), "one column at 420 px");
            b.screenshot("annotator-narrow");
        }
    }

    @Test
    void recordedLeavesWhenTheNextPairArrives() throws Exception {
        try (Browser b = Browser.open()) {
            b.driver.get(server.url("/"));
            String first = awaitVotable(b, null);
            b.driver.findElement(By.id("vote-a")).click();
            b.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBe(By.id("vote-count"), "1"));
            assertEquals("Recorded", b.driver.findElement(By.id("status")).getText());
            awaitVotable(b, first);
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
                String pair = awaitVotable(b, previous);
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
            assertTrue(cut > 0, "16-token responses: stories260K rarely ends a story that soon");
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

    private static void assertNoMarkupRendered(Browser b) {
        Object alerts = b.driver.executeScript("return window.__alerts ? window.__alerts.length : 0;");
        assertEquals(0L, alerts, "no alert() ran");
        Object elements = b.driver.executeScript(
                "return ['prompt', 'response-a', 'response-b']"
                        + ".map(id => document.getElementById(id).children.length).reduce((x, y) => x + y, 0);");
        assertEquals(0L, elements, "model and prompt text holds no elements, only text");
        Object scripts = b.driver.executeScript("return document.scripts.length;");
        assertEquals(1L, scripts, "only the page's own module script exists");
    }

    /** The name the page says this browser votes as (open mode: anon- and 16 hex digits). */
    static String whoami(Browser b) {
        return b.await(Duration.ofSeconds(30)).until(d -> {
            String t = d.findElement(By.id("whoami")).getText();
            return t.startsWith("anon-") ? t : null;
        });
    }

    /** Waits until a pair other than previous is shown and the vote buttons are enabled; returns its id. */
    static String awaitVotable(Browser b, String previous) {
        return b.await(Duration.ofSeconds(120)).until(d -> {
            String id = d.findElement(By.tagName("body")).getDomAttribute("data-pair-id");
            boolean ready = id != null && !id.isEmpty() && !id.equals(previous)
                    && d.findElement(By.id("vote-a")).isEnabled();
            return ready ? id : null;
        });
    }
}
