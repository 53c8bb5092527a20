package org.pairwise.server.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.By;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.ExpectedConditions;

/**
 * Undo, skips and pair flags on the annotator page, in a real browser against a real server and SQLite file: U and
 * Backspace withdraw the last vote inside its window and bring its pair back; a skip button stores its reason.
 */
@Timeout(600)
class CampaignPageTest {
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        if (Browser.installed()) {
            server = TestServer.start(Map.of("undo_window", "60"));
        }
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
    void uAndBackspaceWithdrawTheLastVoteAndItsPairComesBackToVoteAgain() throws Exception {
        try (Browser b = Browser.open()) {
            b.driver.get(server.url("/"));
            String who = AnnotatorPageTest.whoami(b);
            String first = AnnotatorPageTest.awaitVotable(b, null);
            new Actions(b.driver).sendKeys("1").perform();
            b.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBe(By.id("vote-count"), "1"));
            String second = AnnotatorPageTest.awaitVotable(b, first);
            b.await(Duration.ofSeconds(10)).until(d -> d.findElement(By.id("undo")).isEnabled());

            new Actions(b.driver).sendKeys("u").perform();
            b.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBe(By.id("vote-count"), "0"));
            assertEquals(first, AnnotatorPageTest.awaitVotable(b, second), "the undone pair is back on screen");
            assertTrue(b.driver.findElement(By.id("status")).getText().startsWith("Vote withdrawn"));
            b.screenshot("annotator-undo");

            new Actions(b.driver).sendKeys("2").perform();
            b.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBe(By.id("vote-count"), "1"));
            assertEquals(second, AnnotatorPageTest.awaitVotable(b, first), "then the pair that was on screen");
            new Actions(b.driver).sendKeys(org.openqa.selenium.Keys.BACK_SPACE).perform();
            b.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBe(By.id("vote-count"), "0"));
            assertEquals(first, AnnotatorPageTest.awaitVotable(b, second));

            // Stored: both votes on the first pair, both withdrawn (retracted_at set), none live.
            assertEquals(List.of(first + " a withdrawn", first + " b withdrawn"), rows(
                    "SELECT pair_id || ' ' || choice || CASE WHEN retracted_at IS NULL THEN ' live' ELSE ' withdrawn'"
                            + " END FROM preferences WHERE annotator = ? ORDER BY id", who));
        }
    }

    @Test
    void aSkipButtonStoresItsReasonAndAFlagReachesTheAdmin() throws Exception {
        try (Browser b = Browser.open()) {
            b.driver.get(server.url("/"));
            String who = AnnotatorPageTest.whoami(b);
            String pair = AnnotatorPageTest.awaitVotable(b, null);
            b.driver.findElement(By.id("flag-comment")).sendKeys("both answers are in French");
            b.driver.findElement(By.id("flag-submit")).click();
            b.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBe(By.id("status"),
                    "Flag sent to the admin"));
            b.driver.findElement(By.cssSelector("button.skip[data-reason=harmful]")).click();
            String next = AnnotatorPageTest.awaitVotable(b, pair);
            assertTrue(!next.equals(pair));
            assertEquals(List.of(pair + " harmful"), rows(
                    "SELECT pair_id || ' ' || reason FROM skips WHERE annotator = ?", who));
            assertEquals(List.of(pair + " both answers are in French"), rows(
                    "SELECT pair_id || ' ' || comment FROM pair_flags WHERE annotator = ?", who));
            assertEquals(List.of("1"), rows("SELECT flagged_harmful FROM pairs WHERE pair_id = ?", pair));
            assertEquals(List.of(), rows("SELECT id FROM preferences WHERE annotator = ?", who), "a skip is no vote");
        }
    }

    private static List<String> rows(String sql, String arg) throws Exception {
        return server.rows(sql, arg);
    }
}
