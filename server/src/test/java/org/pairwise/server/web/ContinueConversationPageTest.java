package org.pairwise.server.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.pairwise.model.SharedModels;

/**
 * Multi-turn on the annotator page, in a real browser against a real server: after an A vote the person types the
 * next message, the continuation streams in with the conversation so far shown above it, and their vote on it is
 * stored against the pair whose parent they voted on; the pair that was on screen comes next. Without a chat
 * template the page says why continuing is not offered.
 */
@Timeout(600)
class ContinueConversationPageTest {
    @BeforeEach
    void needsBrowser() {
        Browser.assumeInstalled();
    }

    @Test
    void aVoteContinuesWithATypedMessageAndTheHistoryShowsAboveTheNewPair() throws Exception {
        String template = SharedModels.require("qwen3-tokenizer/tokenizer_config.json").toString();
        try (TestServer server = TestServer.start(Map.of("chat_template", template, "undo_window", "30"));
             Browser b = Browser.open()) {
            b.driver.get(server.url("/"));
            String who = AnnotatorPageTest.whoami(b);
            String first = AnnotatorPageTest.awaitVotable(b, null);
            String firstPrompt = b.driver.findElement(By.id("prompt")).getText();
            String firstA = b.driver.findElement(By.id("response-a")).getText();
            assertTrue(b.driver.findElement(By.id("history")).getDomProperty("hidden").equals("true"));

            new Actions(b.driver).sendKeys("1").perform();
            String onScreen = AnnotatorPageTest.awaitVotable(b, first);
            WebElement box = b.await(Duration.ofSeconds(30)).until(
                    ExpectedConditions.visibilityOfElementLocated(By.id("continue-message")));
            assertTrue(b.driver.findElement(By.id("continue-from")).getText().startsWith("Response A"));
            box.sendKeys("What did she do next?");
            b.driver.findElement(By.id("continue-submit")).click();

            String next = AnnotatorPageTest.awaitVotable(b, onScreen);
            assertEquals(List.of(first), server.rows("SELECT parent_pair_id FROM pairs WHERE pair_id = ?", next),
                    "the new pair continues the one voted on");
            assertEquals("What did she do next?", b.driver.findElement(By.id("prompt")).getText());
            List<WebElement> turns = b.driver.findElements(By.cssSelector("#history-turns li"));
            assertEquals(2, turns.size());
            assertEquals("User\n" + firstPrompt, turns.get(0).getText());
            assertEquals("Assistant\n" + firstA, turns.get(1).getText());
            assertTrue(b.driver.findElement(By.id("history")).isDisplayed());
            assertFalse(b.driver.findElement(By.id("continue")).isDisplayed(), "one continuation per vote");
            b.screenshot("annotator-continue");

            String nextB = b.driver.findElement(By.id("response-b")).getText();
            new Actions(b.driver).sendKeys("2").perform();
            assertEquals(onScreen, AnnotatorPageTest.awaitVotable(b, next), "then the pair that was on screen");
            assertFalse(b.driver.findElement(By.id("history")).isDisplayed());
            assertEquals(List.of(first + " a", next + " b"), server.rows("SELECT pair_id || ' ' || choice FROM "
                    + "preferences WHERE annotator = ? ORDER BY id", who));

            // A third turn, from the B vote just cast; a reload shows it again, with its four earlier turns.
            b.await(Duration.ofSeconds(30)).until(ExpectedConditions.visibilityOfElementLocated(
                    By.id("continue-message"))).sendKeys("And the cat?");
            assertTrue(b.driver.findElement(By.id("continue-from")).getText().startsWith("Response B"));
            b.driver.findElement(By.id("continue-submit")).click();
            String third = AnnotatorPageTest.awaitVotable(b, onScreen);
            assertEquals(List.of(next), server.rows("SELECT parent_pair_id FROM pairs WHERE pair_id = ?", third));
            b.driver.navigate().refresh();
            assertEquals(third, AnnotatorPageTest.awaitVotable(b, null), "still this person's to judge");
            List<String> shown = b.driver.findElements(By.cssSelector("#history-turns li")).stream()
                    .map(WebElement::getText).toList();
            assertEquals(List.of("User\n" + firstPrompt, "Assistant\n" + firstA, "User\nWhat did she do next?",
                    "Assistant\n" + nextB), shown);
            assertEquals("And the cat?", b.driver.findElement(By.id("prompt")).getText());
            new Actions(b.driver).sendKeys("1").perform();
            AnnotatorPageTest.awaitVotable(b, third);
            assertEquals(List.of(first + " a", next + " b", third + " a"), server.rows("SELECT pair_id || ' ' || "
                    + "choice FROM preferences WHERE annotator = ? ORDER BY id", who));
        }
    }

    @Test
    void withoutAChatTemplateThePageSaysWhyContinuingIsNotOffered() throws Exception {
        try (TestServer server = TestServer.start(Map.of()); Browser b = Browser.open()) {
            b.driver.get(server.url("/"));
            String first = AnnotatorPageTest.awaitVotable(b, null);
            new Actions(b.driver).sendKeys("2").perform();
            AnnotatorPageTest.awaitVotable(b, first);
            WebElement note = b.await(Duration.ofSeconds(30)).until(
                    ExpectedConditions.visibilityOfElementLocated(By.id("continue-unavailable")));
            assertTrue(note.getText().contains("no chat template") && note.getText().contains("--chat-template FILE"),
                    note.getText());
            assertFalse(b.driver.findElement(By.id("continue-form")).isDisplayed());
        }
    }
}
