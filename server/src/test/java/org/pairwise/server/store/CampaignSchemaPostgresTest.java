package org.pairwise.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.pairwise.server.store.pg.PostgresHarness;

/**
 * The campaign migration on a real PostgreSQL server: its statements run as written (the one change is the id
 * column, {@code INTEGER PRIMARY KEY AUTOINCREMENT}, which migration 1 shares and the PostgreSQL store will map), and
 * its rules hold there: at most k holders per pair even for two transactions racing for the last slot, nobody twice.
 */
class CampaignSchemaPostgresTest {
    /** Migration 1's tables as far as migration 2 touches them, in PostgreSQL's words. */
    private static final String[] BEFORE = {
        "CREATE TABLE prompts (id BIGSERIAL PRIMARY KEY, source TEXT NOT NULL, text TEXT NOT NULL,"
                + " messages_json TEXT, created_at BIGINT NOT NULL)",
        "CREATE TABLE pairs (pair_id TEXT PRIMARY KEY, prompt_id BIGINT NOT NULL REFERENCES prompts(id),"
                + " prompt_text TEXT NOT NULL, policy_version INTEGER NOT NULL, created_at BIGINT NOT NULL)",
        "CREATE TABLE preferences (id BIGSERIAL PRIMARY KEY, pair_id TEXT NOT NULL REFERENCES pairs(pair_id),"
                + " choice TEXT NOT NULL, annotator TEXT, created_at BIGINT NOT NULL, trained_at_version INTEGER)",
        "CREATE UNIQUE INDEX preferences_annotator_pair ON preferences(annotator, pair_id)"
                + " WHERE annotator IS NOT NULL"};

    @Test
    void theMigrationRunsOnPostgresAndItsRulesHoldUnderARace() throws Exception {
        PostgresHarness.assumeAvailable();
        try (PostgresHarness pg = PostgresHarness.start(); Connection c = pg.connect();
             Statement st = c.createStatement()) {
            for (String sql : BEFORE) {
                st.execute(sql);
            }
            for (String sql : CampaignSchema.STATEMENTS) {
                st.execute(sql.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY"));
            }
            st.execute("INSERT INTO prompts (source, text, created_at) VALUES ('t', 'x', 1)");
            st.execute("INSERT INTO pairs (pair_id, prompt_id, prompt_text, policy_version, created_at, votes_wanted)"
                    + " VALUES ('p', 1, 'x', 0, 1, 1)");
            assertThrows(SQLException.class, () -> st.execute("UPDATE pairs SET assigned = 2"));

            // Two leases race for the one slot: the second waits for the first's row lock, then finds none free.
            String take = "UPDATE pairs SET assigned = assigned + 1 WHERE pair_id = 'p' AND assigned < votes_wanted";
            try (Connection first = pg.connect(); Connection second = pg.connect()) {
                first.setAutoCommit(false);
                second.setAutoCommit(false);
                assertEquals(1, first.createStatement().executeUpdate(take));
                CompletableFuture<Integer> racing = CompletableFuture.supplyAsync(() -> {
                    try {
                        return second.createStatement().executeUpdate(take);
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    }
                });
                Thread.sleep(300);
                first.createStatement().executeUpdate("INSERT INTO assignments VALUES ('p', 'ann', 0, 1, 'leased')");
                first.commit();
                assertEquals(0, racing.get(30, TimeUnit.SECONDS), "the slot was taken meanwhile");
                second.commit();
            }
            assertThrows(SQLException.class, () -> st.execute(
                    "INSERT INTO assignments VALUES ('p', 'ann', 2, 3, 'leased')"));
            st.execute("""
                    INSERT INTO assignments (pair_id, annotator, leased_at, expires_at, state)
                    VALUES ('p', 'ann', 2, 2, 'voted')
                    ON CONFLICT (pair_id, annotator) DO UPDATE SET state = excluded.state""");
            try (ResultSet rs = st.executeQuery("SELECT p.assigned, a.state FROM pairs p JOIN assignments a"
                    + " ON a.pair_id = p.pair_id")) {
                rs.next();
                assertEquals(1, rs.getInt(1));
                assertEquals("voted", rs.getString(2));
            }
        }
    }
}
