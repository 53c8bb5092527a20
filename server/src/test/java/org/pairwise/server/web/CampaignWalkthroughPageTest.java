package org.pairwise.server.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.pairwise.server.TestServers;

/**
 * A preference campaign walked through in real browsers against a real server in accounts mode (overlap k = 1, a
 * 10 s undo window), checked in its SQLite file: the admin creates two annotators on the dashboard, publishes
 * Markdown guidelines and copies each one's invite link with the Copy button; the first annotator opens theirs, sees
 * the guidelines, votes with keys 1 to 4 (a, b, tie, both_bad, each under guideline version 1), withdraws the last
 * vote with U (kept as a row with retracted_at, and never trained while the votes around it are), skips that pair
 * with a reason; the second annotator, in a browser of their own, is handed first the pair the first one skipped (a
 * skip gives the slot back) and then only pairs the first was never handed; and the annotator's session opens none
 * of the admin's functions.
 */
@Timeout(600)
class CampaignWalkthroughPageTest {
    static final String ADMIN_TOKEN = "campaign-walkthrough-admin-token-0123";
    static final String GUIDELINES = "# Campaign rules\n\nPrefer the **kinder** story.\n\n- read both\n- then vote\n";

    @RegisterExtension
    static final TestServer server = TestServer.forPages(Map.of("annotation", "accounts", "admin_token",
            ADMIN_TOKEN, "votes_per_pair", "1", "undo_window", "10"));

    @Test
    void theAdminInvitesTwoAnnotatorsWhoVoteUndoSkipAndShareNoPairButTheSkippedOne() throws Exception {
        Map<String, String> links = new LinkedHashMap<>();
        try (Browser admin = Browser.open()) {
            admin.driver.get(server.url("/dashboard.html"));
            // The Copy button writes to the clipboard when the page may; this browser lets it, as a person's would.
            admin.driver.executeCdpCommand("Browser.grantPermissions", Map.of("origin", server.url(""),
                    "permissions", List.of("clipboardReadWrite", "clipboardSanitizedWrite")));
            admin.driver.findElement(By.id("admin-token")).sendKeys(ADMIN_TOKEN, Keys.TAB);
            admin.await(Duration.ofSeconds(30)).until(ExpectedConditions.visibilityOfElementLocated(By.id("accounts")));
            admin.driver.findElement(By.id("guidelines-text")).sendKeys(GUIDELINES);
            admin.driver.findElement(By.id("publish-guidelines")).click();
            admin.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBePresentInElementLocated(
                    By.id("accounts-status"), "version 1 published"));
            for (String name : List.of("ann1", "ann2")) {
                admin.driver.findElement(By.id("new-name")).sendKeys(name);
                admin.driver.findElement(By.id("create-annotator")).click();
                admin.await(Duration.ofSeconds(30)).until(ExpectedConditions.presenceOfElementLocated(
                        By.cssSelector("tr[data-name='" + name + "'] button")));
                admin.driver.findElement(By.cssSelector("tr[data-name='" + name + "'] button")).click();  // Invite
                admin.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBePresentInElementLocated(
                        By.id("invite-for"), name));
                links.put(name, copyInvite(admin));
            }
        }
        for (String link : links.values()) {
            assertTrue(link.startsWith(server.url("/#invite=")), link);
        }

        Set<String> firstSaw;
        List<String> pairs = new ArrayList<>();
        try (Browser ann1 = Browser.open()) {
            ann1.driver.get(links.get("ann1"));
            ann1.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBe(By.id("whoami"), "ann1"));
            var guidelines = ann1.driver.findElement(By.id("guidelines"));
            assertTrue(guidelines.isDisplayed());
            assertEquals("Campaign rules", guidelines.findElement(By.cssSelector("h3")).getText());
            assertEquals("kinder", guidelines.findElement(By.cssSelector("strong")).getText());
            assertTrue(ann1.driver.findElement(By.id("guidelines-version")).getText().contains("version 1"));

            // Keys 1 to 4 on four pairs in turn: each key's choice, on the pair that was on screen.
            String previous = null;
            for (String key : List.of("1", "2", "3", "4")) {
                String pair = AnnotatorPageTest.awaitVotable(ann1, previous);
                new Actions(ann1.driver).sendKeys(key).perform();
                ann1.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBe(By.id("vote-count"),
                        Integer.toString(pairs.size() + 1)));
                pairs.add(pair);
                previous = pair;
            }
            assertEquals(List.of(pairs.get(0) + " a 1 live", pairs.get(1) + " b 1 live", pairs.get(2) + " tie 1 live",
                    pairs.get(3) + " both_bad 1 live"), votesOf("ann1"));

            // U withdraws the last vote inside its window and brings its pair back; then it is skipped instead.
            String next = AnnotatorPageTest.awaitVotable(ann1, pairs.get(3));
            ann1.await(Duration.ofSeconds(10)).until(d -> d.findElement(By.id("undo")).isEnabled());
            new Actions(ann1.driver).sendKeys("u").perform();
            ann1.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBe(By.id("vote-count"), "3"));
            assertEquals(pairs.get(3), AnnotatorPageTest.awaitVotable(ann1, next), "the withdrawn pair is back");
            ann1.driver.findElement(By.cssSelector("button.skip[data-reason=prompt_unclear]")).click();
            AnnotatorPageTest.awaitVotable(ann1, pairs.get(3));
            assertEquals(List.of(pairs.get(3) + " prompt_unclear"), rows(
                    "SELECT pair_id || ' ' || reason FROM skips WHERE annotator = ?", "ann1"));
            assertEquals(pairs.get(3) + " both_bad 1 withdrawn", votesOf("ann1").get(3));

            // The trainer takes the A and B votes once their window has passed, never the withdrawn one.
            TestServers.await(() -> rows("SELECT COUNT(*) FROM training_items t JOIN preferences v ON v.id = "
                    + "t.vote_id WHERE v.annotator = ? AND t.trained_at_version IS NOT NULL", "ann1"),
                    List.of("2")::equals, Duration.ofSeconds(90), "ann1's A and B votes trained");
            assertEquals(List.of(pairs.get(0) + " a", pairs.get(1) + " b"), rows("SELECT t.pair_id || ' ' || t.chosen"
                    + " FROM training_items t JOIN preferences v ON v.id = t.vote_id WHERE v.annotator = ? ORDER BY"
                    + " t.id", "ann1"));
            assertEquals(List.of("untrained"), rows("SELECT CASE WHEN trained_at_version IS NULL AND NOT EXISTS "
                    + "(SELECT 1 FROM training_items t WHERE t.vote_id = v.id) THEN 'untrained' ELSE 'trained' END"
                    + " FROM preferences v WHERE annotator = ? AND retracted_at IS NOT NULL", "ann1"));

            // The annotator's session reaches none of the admin's functions, on the dashboard or the API.
            ann1.driver.get(server.url("/dashboard.html"));
            assertEquals(List.of(401L, 401L, 401L, 401L, 401L, 403L), statuses(ann1, List.of(
                    "GET /api/annotators", "POST /api/annotators", "POST /api/invites", "GET /api/export",
                    "POST /api/trainer/pause", "GET /api/quality")));
            assertFalse(ann1.driver.findElement(By.id("accounts")).isDisplayed());
            firstSaw = new HashSet<>(rows("SELECT pair_id FROM assignments WHERE annotator = ?", "ann1"));
        }

        // What ann1 holds (voted, or leased and not yet voted) stays theirs; the pair they skipped went back.
        Set<String> firstHolds = new HashSet<>(rows("SELECT pair_id FROM assignments WHERE annotator = ? AND state IN "
                + "('voted', 'leased')", "ann1"));
        assertEquals(Set.of(pairs.get(0), pairs.get(1), pairs.get(2)), new HashSet<>(rows("SELECT pair_id FROM "
                + "assignments WHERE annotator = ? AND state = 'voted'", "ann1")));

        List<String> secondGot = new ArrayList<>();
        try (Browser ann2 = Browser.open()) {
            ann2.driver.get(links.get("ann2"));
            ann2.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBe(By.id("whoami"), "ann2"));
            String previous = null;
            for (int i = 0; i < 3; i++) {
                String pair = AnnotatorPageTest.awaitVotable(ann2, previous);
                secondGot.add(pair);
                new Actions(ann2.driver).sendKeys("1").perform();
                ann2.await(Duration.ofSeconds(30)).until(ExpectedConditions.textToBe(By.id("vote-count"),
                        Integer.toString(i + 1)));
                previous = pair;
            }
        }
        // A pair short of its vote goes first: the one ann1 skipped (a skip gives the slot to someone else). Every
        // other pair ann2 is handed is one ann1 was never handed at all.
        assertEquals(pairs.get(3), secondGot.getFirst(), "the skipped pair goes to the next annotator first");
        for (String p : secondGot.subList(1, secondGot.size())) {
            assertFalse(firstSaw.contains(p), p + " was handed to ann1 already");
        }
        Set<String> secondSaw = new HashSet<>(rows("SELECT pair_id FROM assignments WHERE annotator = ?", "ann2"));
        Set<String> shared = new HashSet<>(secondSaw);
        shared.retainAll(firstSaw);
        assertEquals(Set.of(pairs.get(3)), shared, "ann1 and ann2 share only the pair ann1 gave back");
        assertTrue(secondSaw.stream().noneMatch(firstHolds::contains));
        // k = 1: no pair is voted on, or held, by two people.
        assertEquals(List.of("0"), rows("SELECT COUNT(*) FROM (SELECT pair_id FROM assignments WHERE state IN "
                + "('voted', 'leased') GROUP BY pair_id HAVING COUNT(*) > 1)"));
        assertEquals(List.of(pairs.get(3) + " a 1 live"), votesOf("ann2").subList(0, 1));
    }

    /** Clicks Copy and returns what the person now holds: the clipboard, or the field's selection to copy by hand. */
    private static String copyInvite(Browser admin) {
        String shown = admin.driver.findElement(By.id("invite-link")).getDomProperty("value");
        admin.driver.findElement(By.id("copy-invite")).click();
        String status = admin.await(Duration.ofSeconds(10)).until(d -> {
            String s = d.findElement(By.id("accounts-status")).getText();
            return s.contains("copied") || s.contains("by hand") ? s : null;
        });
        String held = (String) admin.driver.executeAsyncScript(status.contains("copied")
                ? "const done = arguments[arguments.length - 1];"
                        + "navigator.clipboard.readText().then(done, e => done('no clipboard: ' + e));"
                : "const el = document.getElementById('invite-link');"
                        + "arguments[arguments.length - 1](el.value.substring(el.selectionStart, el.selectionEnd));");
        assertEquals(shown, held, status);
        System.out.println("invite link taken by Copy: " + (status.contains("copied") ? "from the clipboard"
                : "selected for copying by hand (no clipboard)"));
        return held;
    }

    /** Each "METHOD /path" called from the page with the session cookie (and its CSRF token on POSTs). */
    private static List<Long> statuses(Browser b, List<String> calls) {
        List<Long> out = new ArrayList<>();
        for (String call : calls) {
            String[] mp = call.split(" ");
            out.add((Long) b.driver.executeAsyncScript("const done = arguments[arguments.length - 1];"
                    + "fetch('/api/me').then(r => r.json()).then(me => fetch(arguments[1], {method: arguments[0],"
                    + " headers: {'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token ?? ''},"
                    + " body: arguments[0] === 'POST' ? JSON.stringify({name: 'mallory'}) : undefined}))"
                    + ".then(r => done(r.status), e => done(String(e)));", mp[0], mp[1]));
        }
        return out;
    }

    /** ann's votes in the file, oldest first: "pair choice guideline_version live|withdrawn". */
    private static List<String> votesOf(String annotator) {
        return rows("SELECT pair_id || ' ' || choice || ' ' || COALESCE(guideline_version, 'none') || CASE WHEN "
                + "retracted_at IS NULL THEN ' live' ELSE ' withdrawn' END FROM preferences WHERE annotator = ? "
                + "ORDER BY id", annotator);
    }

    private static List<String> rows(String sql, String... args) {
        return server.rows(sql, args);
    }
}
