package org.pairwise.launcher.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.launcher.loadtest.LoadtestCommandTest.Result;
import org.pairwise.loadtest.Audit;
import org.pairwise.loadtest.CampaignAudit;
import org.pairwise.loadtest.VoteLedger;
import org.pairwise.model.SharedModels;

/**
 * {@code pairwise loadtest --annotators-from accounts} end to end: a server started here on stories260K in accounts
 * mode with overlap k = 3 and majority aggregation; the load test creates its annotators through the admin API and
 * votes and skips as them with their bearer tokens; the campaign audit reads the store file after the server has
 * stopped. Its figures are compared with the file read here; then copies of the file, corrupted one way each (a
 * fourth vote on a full pair, a person's second vote, a lost training item, an untrained one), and a ledger with a
 * person's vote acknowledged twice, each fail the audit.
 */
class LoadtestAccountsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final int PEOPLE = 6;

    @TempDir
    static Path dir;
    static Path store;
    static Result run;
    static JsonNode report;

    @BeforeAll
    static void runOnce() throws Exception {
        Optional<Path> model = SharedModels.find("stories260K/stories260K.gguf");
        if (model.isEmpty()) {
            return;  // each test skips with the reason
        }
        Path json = dir.resolve("accounts.json"), data = dir.resolve("data");
        List<String> args = new ArrayList<>(List.of("loadtest", "--serve", "--model", model.get().toString(),
                "--data-dir", data.toString(), "--annotators-from", "accounts", "--annotators",
                Integer.toString(PEOPLE), "--votes", "150", "--duration", "30s", "--skip-rate", "0.1",
                "--rule", "shorter", "--noise", "0.2", "--settle", "60s", "--report", json.toString()));
        // Small and quick, one thread each (CI has two cores); every vote final after 1 s; a step per few items.
        for (String s : List.of("votes_per_pair=3", "aggregation=majority", "undo_window=1", "max_new_tokens=12",
                "pool_size=8", "batch_size=4", "batch_window_ms=200", "publish_every=1", "generation_threads=1",
                "training_threads=1")) {
            args.add("--serve-set");
            args.add(s);
        }
        run = LoadtestCommandTest.run(args.toArray(String[]::new));
        store = data.resolve("pairwise.db");
        report = Files.exists(json) ? JSON.readTree(Files.readString(json)) : null;
    }

    static void needsModel() {
        assumeTrue(run != null, "needs the stories260K fixture under ../shared/models (see shared/models/README)");
    }

    @Test
    void accountsAtKThreeWithMajorityPassTheAuditAndItsFiguresAreTheStoresOwn() throws Exception {
        needsModel();
        assertEquals(0, run.code(), run.out() + run.err());
        assertTrue(run.out().contains("audit: PASS"), run.out());
        for (JsonNode c : report.get("audit").get("checks")) {
            assertEquals("PASS", c.get("status").asText(), c.toString());
        }
        assertEquals("accounts", report.get("settings").get("annotators_from").asText());
        JsonNode votes = report.get("votes");
        assertEquals(150, votes.get("acknowledged").asLong() + votes.get("skipped").asLong(), votes.toString());
        assertTrue(votes.get("skipped").asLong() > 0, "some pairs were skipped: " + votes);

        JsonNode fig = report.get("audit").get("campaign");
        // Every annotator is one of the accounts the run created, each voted under its own name.
        assertEquals(PEOPLE, count("SELECT COUNT(*) FROM annotators WHERE name LIKE 'lt-%' AND role = 'annotator'"));
        assertEquals(PEOPLE, count("SELECT COUNT(DISTINCT annotator) FROM preferences"));
        assertEquals(0, count("SELECT COUNT(*) FROM preferences WHERE annotator NOT IN (SELECT name FROM annotators)"));
        assertEquals(votes.get("acknowledged").asLong(), count("SELECT COUNT(*) FROM preferences"));
        // The figures are the file's: pairs with all three votes, the decided pairs and their items.
        long full = count("SELECT COUNT(*) FROM (SELECT pair_id FROM preferences WHERE retracted_at IS NULL "
                + "GROUP BY pair_id HAVING COUNT(*) = 3)");
        assertTrue(full >= 10, "pairs with three votes: " + full);
        assertEquals(full, fig.get("pairs_with_k_votes").asLong());
        assertEquals(0, count("SELECT COUNT(*) FROM (SELECT pair_id FROM preferences GROUP BY pair_id "
                + "HAVING COUNT(*) > 3)"));
        long items = count("SELECT COUNT(*) FROM training_items WHERE vote_id IS NULL");
        assertEquals(items, fig.get("aggregated_items").asLong());
        assertEquals(0, count("SELECT COUNT(*) FROM training_items WHERE vote_id IS NOT NULL"), "no per-vote items");
        assertEquals(0, fig.get("pairs_trained_per_vote").asLong());
        assertEquals(items, count("SELECT COUNT(*) FROM pairs WHERE aggregate_outcome IN ('a', 'b')"));
        long decided = count("SELECT COUNT(*) FROM pairs WHERE aggregated_at IS NOT NULL");
        assertTrue(items > 0 && items <= decided && decided >= full, items + " items, " + decided + " decided");
        assertEquals(items, count("SELECT COUNT(*) FROM training_items WHERE trained_at_version IS NOT NULL"));
        assertTrue(fig.get("queue_position").asLong() >= count("SELECT MAX(id) FROM training_items"));
        assertEquals(votes.get("skipped").asLong(), count("SELECT COUNT(*) FROM skips"));
        System.out.println("loadtest --annotators-from accounts, k = 3, majority: " + votes.get("per_second")
                + " votes/s, " + votes.get("acknowledged") + " votes, " + votes.get("skipped") + " skips, "
                + fig.get("pairs_by_votes") + " pairs by votes, decided " + fig.get("decided_pairs") + ", "
                + items + " aggregated items, all trained");
    }

    @Test
    void aFourthVoteOnAFullPairFailsTheAudit() throws Exception {
        needsModel();
        Path copy = corrupted("four", """
                INSERT INTO preferences (pair_id, choice, annotator, created_at)
                SELECT pair_id, 'a', 'intruder', 0 FROM preferences GROUP BY pair_id HAVING COUNT(*) = 3 LIMIT 1""");
        assertFails(copy, new VoteLedger(), "no pair has more than its k votes", "4 votes, k = 3");
    }

    @Test
    void aSecondVoteByOnePersonOnOnePairFailsTheAudit() throws Exception {
        needsModel();
        // The database refuses it (a unique index); a store that lost the index must not pass the audit.
        Path copy = corrupted("twice", "DROP INDEX preferences_annotator_pair", """
                INSERT INTO preferences (pair_id, choice, annotator, created_at)
                SELECT pair_id, 'b', annotator, 0 FROM preferences ORDER BY id LIMIT 1""");
        assertFails(copy, new VoteLedger(), "nobody voted twice on one pair (store)", "lt-");
    }

    @Test
    void aLostOrUntrainedTrainingItemFailsTheAudit() throws Exception {
        needsModel();
        Path lost = corrupted("lost", "DELETE FROM training_items WHERE id = (SELECT MIN(id) FROM training_items)");
        assertFails(lost, new VoteLedger(), "each decided pair is one training item", "with 0 training items");
        Path untrained = corrupted("untrained", "UPDATE training_items SET trained_at_version = NULL"
                + " WHERE id = (SELECT MIN(id) FROM training_items)");
        assertFails(untrained, new VoteLedger(),
                "every training item trained once, within the checkpointed queue position",
                "below the checkpoint's queue position but was never trained");
    }

    @Test
    void aLedgerThatHoldsOnePersonsVoteOnAPairTwiceFailsTheAudit() throws Exception {
        needsModel();
        VoteLedger ledger = new VoteLedger();
        ledger.acknowledged(true, new VoteLedger.Ack(1, "lt-x-0", "k1", "p1", "a", 7));
        ledger.acknowledged(true, new VoteLedger.Ack(2, "lt-x-0", "k2", "p1", "b", 8));
        assertFails(corrupted("ledger"), ledger, "nobody's vote on one pair was acknowledged twice", "lt-x-0 on p1");
    }

    /** A copy of the store after the run with {@code sql} applied. */
    static Path corrupted(String name, String... sql) throws Exception {
        Path copy = dir.resolve(name + ".db");
        Files.copy(store, copy);
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + copy); Statement st = c.createStatement()) {
            for (String s : sql) {
                assertTrue(st.executeUpdate(s) >= 0);
            }
        }
        return copy;
    }

    static void assertFails(Path file, VoteLedger ledger, String check, String detail) throws Exception {
        CampaignAudit.Result r = new CampaignAudit(file, "majority").verify(ledger, true);
        Audit.Check c = r.checks().stream().filter(k -> k.name().equals(check)).findFirst().orElseThrow();
        assertEquals(Audit.Status.FAIL, c.status(), c.toString());
        assertTrue(c.detail().contains(detail), c.detail());
    }

    static long count(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + store); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
