package org.pairwise.server.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * What a newcomer reads on the dashboard, in a real browser: why the charts are empty and when training starts;
 * tick labels that tell small values apart; legends that show the newest values without hovering; and the
 * conversational export offered only when the model has a chat template.
 */
@Timeout(600)
class DashboardReadingTest {
    /** Three A/B votes per step, and a window long enough that no partial batch trains during the test. */
    static TestServer waiting;
    /** One vote per step, and a chat template given by --chat-template. */
    static TestServer training;
    static Path template;

    @BeforeAll
    static void start() throws Exception {
        if (!Browser.installed()) {
            return;  // each test then skips with the reason, visible per test in the report
        }
        waiting = TestServer.start(Map.of("batch_size", "3", "batch_window_ms", "600000"));
        template = Files.createTempFile("pairwise-chat-", ".jinja");
        Files.writeString(template, "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
                + "{% if add_generation_prompt %}assistant:{% endif %}");
        training = TestServer.start(Map.of("chat_template", template.toString()));
    }

    @BeforeEach
    void needsBrowser() {
        Browser.assumeInstalled();
    }

    @AfterAll
    static void stop() throws Exception {
        for (TestServer s : new TestServer[] {waiting, training}) {
            if (s != null) {
                s.close();
            }
        }
        if (template != null) {
            Files.deleteIfExists(template);
        }
    }

    @Test
    void emptyChartsSayWhenTrainingStarts() throws Exception {
        try (Browser b = Browser.open()) {
            b.driver.get(waiting.url("/dashboard.html"));
            WebElement hint = b.driver.findElement(By.id("training-hint"));
            b.await(Duration.ofSeconds(30)).until(d -> hint.isDisplayed() && hint.getText().contains("(0 so far)"));
            assertEquals("No training step yet. Training starts once 3 A/B votes are in (0 so far), or 10 min after "
                    + "the first A/B vote if fewer arrive (the batch window). Ties and both-bad votes are not "
                    + "trained on.", hint.getText());

            waiting.vote("a", null);
            b.await(Duration.ofSeconds(30)).until(d -> hint.getText().contains("(1 so far)"));
            assertEquals(0, DashboardTest.points(b.driver.findElement(By.id("chart-loss"))), "still no step");

            // stories260K (or the demo model) has no chat template: its conversational records would not train.
            assertFalse(b.driver.findElement(By.id("export-conversational")).isEnabled());
            assertTrue(b.driver.findElement(By.id("export-standard")).isEnabled());
            WebElement note = b.driver.findElement(By.id("export-note"));
            assertTrue(note.isDisplayed() && note.getText().contains("no chat template")
                    && note.getText().contains("--chat-template FILE"), note.getText());
            b.screenshot("dashboard-before-training");
        }
    }

    @Test
    void ticksTellSmallValuesApartAndLegendsShowTheNewestValues() throws Exception {
        try (Browser b = Browser.open()) {
            b.driver.get(training.url("/dashboard.html"));
            WebElement loss = b.driver.findElement(By.id("chart-loss"));
            WebElement margins = b.driver.findElement(By.id("chart-margins"));
            for (int i = 1; i <= 3; i++) {
                training.vote(i % 2 == 0 ? "b" : "a", null);
                int steps = i;
                b.await(Duration.ofSeconds(120)).until(d -> DashboardTest.points(loss) >= steps);
            }
            assertFalse(b.driver.findElement(By.id("training-hint")).isDisplayed(),
                    "the hint goes with the first step");

            // At the learning rate serve uses (5e-6) the loss moves in its fifth or sixth digit and the margins sit
            // near zero: the ticks must still be distinct numbers, in order, and never "-0".
            for (WebElement chart : List.of(loss, margins)) {
                List<String> ticks = ticks(chart);
                assertTrue(ticks.size() >= 2, chart.getDomAttribute("id") + ": " + ticks);
                for (int i = 1; i < ticks.size(); i++) {
                    assertTrue(Double.parseDouble(ticks.get(i)) > Double.parseDouble(ticks.get(i - 1)),
                            chart.getDomAttribute("id") + " ticks increase: " + ticks);
                }
                assertFalse(ticks.stream().anyMatch(t -> t.matches("-0(\\.0*)?")), "no -0: " + ticks);
            }

            // The cursor is nowhere near the plot: the legend shows the last step and its loss, not "--".
            List<String> legend = legendValues(loss);
            assertEquals(2, legend.size(), legend.toString());
            assertEquals(b.driver.findElement(By.id("step")).getText(), legend.get(0), "the step of the last point");
            double last = Double.parseDouble(loss.getDomAttribute("data-last"));
            assertEquals(last, Double.parseDouble(legend.get(1)), 1e-5 * Math.abs(last), "the last loss: " + legend);
            for (String id : List.of("chart-accuracies", "chart-margins", "chart-rewards", "chart-policy")) {
                List<String> values = legendValues(b.driver.findElement(By.id(id)));
                assertFalse(values.contains("--") || values.contains(""), id + ": " + values);
            }

            // With a chat template, the conversational export is offered.
            assertTrue(b.driver.findElement(By.id("export-conversational")).isEnabled());
            assertFalse(b.driver.findElement(By.id("export-note")).isDisplayed());
            b.screenshot("dashboard-after-three-steps");
        }
    }

    /** The y tick labels the chart drew on its canvas, as it reports them. */
    private static List<String> ticks(WebElement chart) {
        List<String> out = new ArrayList<>();
        new JsonArray(chart.getDomAttribute("data-y-ticks")).forEach(t -> out.add((String) t));
        return out;
    }

    private static List<String> legendValues(WebElement chart) {
        return chart.findElements(By.cssSelector(".u-legend .u-value")).stream().map(WebElement::getText).toList();
    }
}
