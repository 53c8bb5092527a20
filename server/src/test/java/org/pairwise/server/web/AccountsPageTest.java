package org.pairwise.server.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.ExpectedConditions;

/**
 * Accounts in real browsers against a real server: the admin creates an annotator on the dashboard, publishes
 * guidelines whose Markdown holds markup, and copies an invite link; the annotator opens it, is signed in (an
 * HttpOnly, SameSite=Strict cookie), sees the guidelines rendered with the markup inert, votes with a key and sees
 * the server's count of their votes; a second browser cannot reuse the link; the annotator cannot reach the admin's
 * panel or routes.
 */
@Timeout(600)
class AccountsPageTest {
    static final String ADMIN_TOKEN = "accounts-page-admin-token-0123456789";
    /** Each payload would set window.pwned if any of it ran as HTML or script. */
    static final String GUIDELINES = """
            # How to judge

            Prefer **helpful** answers, and *honest* ones.

            - read both in full
            - then press 1 or 2

            <script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">
            [a link](javascript:window.pwned=3) and [the docs](https://example.org/docs)
            """;

    @RegisterExtension
    static final TestServer server = TestServer.forPages(Map.of("annotation", "accounts", "admin_token", ADMIN_TOKEN));

    @Test
    void theAdminInvitesAnAnnotatorWhoSignsInReadsTheGuidelinesAndVotes() throws Exception {
        String link;
        try (Browser admin = Browser.open()) {
            admin.driver.get(server.url("/dashboard.html"));
            admin.driver.findElement(By.id("admin-token")).sendKeys(ADMIN_TOKEN, Keys.TAB);
            admin.await(Duration.ofSeconds(30)).until(ExpectedConditions.visibilityOfElementLocated(By.id("accounts")));
            admin.driver.findElement(By.id("new-name")).sendKeys("nora");
            admin.driver.findElement(By.id("create-annotator")).click();
            WebElement row = admin.await(Duration.ofSeconds(30)).until(ExpectedConditions.presenceOfElementLocated(
                    By.cssSelector("tr[data-name='nora']")));
            assertTrue(row.getText().contains("annotator") && row.getText().contains("active"), row.getText());

            WebElement text = admin.driver.findElement(By.id("guidelines-text"));
            text.sendKeys(GUIDELINES);
            // The preview is the annotator page's renderer: the same inert nodes.
            assertEquals("helpful", admin.driver.findElement(By.cssSelector("#guidelines-preview strong"))
                    .getText());
            admin.driver.findElement(By.id("publish-guidelines")).click();
            admin.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBePresentInElementLocated(
                    By.id("accounts-status"), "version 1 published"));

            admin.driver.findElement(By.cssSelector("tr[data-name='nora'] button")).click();  // Invite
            link = admin.await(Duration.ofSeconds(30)).until(d -> {
                String v = d.findElement(By.id("invite-link")).getDomProperty("value");
                return v != null && v.contains("#invite=") ? v : null;
            });
            admin.driver.findElement(By.id("copy-invite")).click();
            admin.await(Duration.ofSeconds(10)).until(d -> {
                String s = d.findElement(By.id("accounts-status")).getText();
                return s.contains("copied") || s.contains("by hand");
            });
            admin.screenshot("accounts-dashboard");
        }
        assertTrue(link.startsWith(server.url("/#invite=")), link);

        try (Browser nora = Browser.open()) {
            nora.driver.get(link);
            nora.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBe(By.id("whoami"), "nora"));
            // The code leaves the address bar: a shoulder or a screenshot does not carry it on.
            assertFalse(nora.driver.getCurrentUrl().contains("invite"), nora.driver.getCurrentUrl());
            Cookie session = nora.driver.manage().getCookieNamed("pairwise_session");
            assertTrue(session.isHttpOnly());
            assertEquals("Strict", session.getSameSite());
            assertNull(nora.driver.executeScript("return document.cookie.includes('pairwise_session') ? 'x' : null"),
                    "the page's scripts cannot read the session cookie");

            WebElement guidelines = nora.driver.findElement(By.id("guidelines"));
            assertTrue(guidelines.isDisplayed());
            assertEquals("How to judge", guidelines.findElement(By.cssSelector("h3")).getText());
            assertEquals("helpful", guidelines.findElement(By.cssSelector("strong")).getText());
            assertEquals(2, guidelines.findElements(By.cssSelector("li")).size());
            String shown = guidelines.getText();
            assertTrue(shown.contains("<script>window.pwned = 1</script><img src=x"), shown);
            assertEquals(List.of(), guidelines.findElements(By.cssSelector("script, img")));
            List<WebElement> links = guidelines.findElements(By.cssSelector("a"));
            assertEquals(1, links.size(), "the javascript: link is text, not a link");
            assertEquals("https://example.org/docs", links.get(0).getDomAttribute("href"));
            assertNull(nora.driver.executeScript("return window.pwned ?? null"));
            assertTrue(nora.driver.findElement(By.id("guidelines-version")).getText().contains("version 1"));

            String pair = AnnotatorPageTest.awaitVotable(nora, null);
            nora.screenshot("accounts-annotator");
            new Actions(nora.driver).sendKeys("1").perform();
            nora.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBe(By.id("progress"), "1 vote so far"));
            List<String[]> votes = server.votesOf("nora");
            assertEquals(1, votes.size());
            assertEquals(pair, votes.get(0)[0]);
            assertEquals("a", votes.get(0)[1]);

            // Not the admin: the dashboard's panel stays hidden, and the routes refuse the session.
            nora.driver.get(server.url("/dashboard.html"));
            Object status = nora.driver.executeAsyncScript("const done = arguments[arguments.length - 1];"
                    + "fetch('/api/annotators').then(r => done(r.status), e => done(String(e)));");
            assertEquals(401L, status);
            assertFalse(nora.driver.findElement(By.id("accounts")).isDisplayed());
        }

        try (Browser other = Browser.open()) {
            other.driver.get(link);
            other.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBePresentInElementLocated(
                    By.id("signin"), "already used"));
            assertNull(other.driver.manage().getCookieNamed("pairwise_session"));
            assertFalse(other.driver.findElement(By.id("whoami")).getText().equals("nora"));
        }
    }
}
