package org.pairwise.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.server.store.PreferenceStore.Aggregation;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.PreferenceStore.Finalising;
import org.pairwise.server.store.PreferenceStore.StoreUnavailableException;
import org.pairwise.server.store.PreferenceStore.VoteRequest;

/**
 * A finalising pass whose transaction fails at COMMIT (a full disk on SQLite, a lost server or a refused deferred
 * constraint on PostgreSQL) must leave the finaliser's watermark where it was, so the next pass itemises the same
 * votes: the watermark lives in memory, and moves only after the commit. PostgreSQL makes a COMMIT fail on demand
 * (a deferred constraint trigger), so the test runs there.
 */
class FinaliserCommitTest {
    @TempDir
    Path dir;

    @Test
    void aPassWhoseCommitFailsIsDoneAgainByTheNextPass() throws Exception {
        StoreKind.StoreUnderTest db = StoreKind.POSTGRES.fresh(dir);
        Finalising each = new Finalising(Aggregation.EACH, 0, true);
        try (var store = db.open(100); Connection c = db.jdbc(); Statement st = c.createStatement()) {
            Fixtures.addPairs(store, 2);
            st.execute("CREATE TABLE commit_blocker (on_ BOOLEAN)");
            st.execute("INSERT INTO commit_blocker VALUES (true)");
            st.execute("""
                    CREATE FUNCTION refuse_items() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        IF EXISTS (SELECT 1 FROM commit_blocker) THEN RAISE EXCEPTION 'commit refused'; END IF;
                        RETURN NULL;
                    END $$""");
            st.execute("CREATE CONSTRAINT TRIGGER refuse_items AFTER INSERT ON training_items"
                    + " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_items()");
            store.recordVote(new VoteRequest("p0", Choice.A, null, "k0", null)).join();
            store.recordVote(new VoteRequest("p1", Choice.B, null, "k1", null)).join();
            Thread.sleep(5);  // past the (zero) undo window

            CompletionException e = assertThrows(CompletionException.class, () -> store.finalise(each).join());
            assertInstanceOf(StoreUnavailableException.class, e.getCause());
            assertEquals(0, db.count("SELECT COUNT(*) FROM training_items"));

            st.execute("DELETE FROM commit_blocker");
            assertEquals(2, store.finalise(each).join(), "the votes the failed pass saw are itemised now");
            assertEquals(0, store.finalise(each).join());
        } finally {
            db.close();
        }
    }
}
