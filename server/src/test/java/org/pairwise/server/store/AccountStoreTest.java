package org.pairwise.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.pairwise.server.auth.Secrets;
import org.pairwise.server.store.AccountStore.AccountConflict;
import org.pairwise.server.store.AccountStore.Redemption;
import org.pairwise.server.store.AccountStore.Refusal;

/**
 * The account rules on a real SQLite file, below HTTP: one redemption per code however many arrive at once, names
 * unique across every status (the database's constraint as well as the check), deleted for good, a disabled
 * account's sessions gone in the same transaction, guideline versions 1, 2, 3.
 */
@ParameterizedClass
@EnumSource(StoreKind.class)
class AccountStoreTest extends StoreContract {

    @Test
    void ofManySimultaneousRedemptionsOfOneCodeExactlyOneOpensASession() throws Exception {
        try (var store = db.open(64)) {
            AccountStore a = store.accounts();
            a.create("ann", "annotator", null).join();
            String code = Secrets.newSecret();
            a.addInvite("ann", Secrets.digest(code), System.currentTimeMillis() + 60_000).join();
            List<String> sessions = new ArrayList<>();
            List<CompletableFuture<Redemption>> all = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                String s = Secrets.newSecret();
                sessions.add(s);
                all.add(a.redeemInvite(Secrets.digest(code), Secrets.digest(s), System.currentTimeMillis() + 60_000));
            }
            int opened = 0;
            for (int i = 0; i < all.size(); i++) {
                Redemption r = all.get(i).join();
                if (r.account() != null) {
                    opened++;
                    assertEquals("ann", a.session(Secrets.digest(sessions.get(i))).join().orElseThrow().account()
                            .name());
                } else {
                    assertEquals(Refusal.USED, r.refusal());
                    assertTrue(a.session(Secrets.digest(sessions.get(i))).join().isEmpty());
                }
            }
            assertEquals(1, opened);
            assertEquals(1, db.count("SELECT COUNT(*) FROM sessions"));
        }
    }

    @Test
    void namesAreUniqueInEveryStatusAndDeletedStaysDeleted() throws Exception {
        try (var store = db.open(64)) {
            AccountStore a = store.accounts();
            a.create("bo", "viewer", null).join();
            var twice = assertThrows(CompletionException.class, () -> a.create("bo", "annotator", null).join());
            assertInstanceOf(AccountConflict.class, twice.getCause());
            String session = Secrets.newSecret();
            String code = Secrets.newSecret();
            a.addInvite("bo", Secrets.digest(code), System.currentTimeMillis() + 60_000).join();
            a.openSessionByToken("nope", Secrets.digest(session), 0).join();  // no such token: nothing opens
            assertEquals(0, db.count("SELECT COUNT(*) FROM sessions"));
            a.redeemInvite(Secrets.digest(code), Secrets.digest(session), System.currentTimeMillis() + 60_000).join();
            assertTrue(a.session(Secrets.digest(session)).join().isPresent());

            assertEquals("deleted", a.setStatus("bo", "deleted").join().orElseThrow().status());
            assertEquals(0, db.count("SELECT COUNT(*) FROM sessions"));
            assertTrue(a.session(Secrets.digest(session)).join().isEmpty());
            var back = assertThrows(CompletionException.class, () -> a.setStatus("bo", "active").join());
            assertInstanceOf(AccountConflict.class, back.getCause());
            assertInstanceOf(AccountConflict.class, assertThrows(CompletionException.class,
                    () -> a.create("bo", "viewer", null).join()).getCause());
            assertEquals(1, db.count("SELECT COUNT(*) FROM annotators WHERE name = 'bo'"));
            assertTrue(a.setStatus("nobody", "disabled").join().isEmpty());
        }
        // The rule is the database's too: a second row of that name fails its UNIQUE constraint.
        try (var c = db.jdbc(); var st = c.createStatement()) {
            assertThrows(java.sql.SQLException.class, () -> st.execute("INSERT INTO annotators (name, role, status,"
                    + " created_at, updated_at) VALUES ('bo', 'annotator', 'active', 0, 0)"));
            assertThrows(java.sql.SQLException.class, () -> st.execute("INSERT INTO annotators (name, role, status,"
                    + " created_at, updated_at) VALUES ('cy', 'root', 'active', 0, 0)"));
        }
    }

    @Test
    void guidelineVersionsCountUpFromOne() throws Exception {
        try (var store = db.open(64)) {
            AccountStore a = store.accounts();
            assertNull(a.currentGuidelineVersion().join());
            assertTrue(a.currentGuideline().join().isEmpty());
            List<CompletableFuture<AccountStore.Guideline>> written = new ArrayList<>();
            for (int i = 1; i <= 3; i++) {
                written.add(a.addGuideline("markdown", "rule " + i, "admin"));
            }
            for (int i = 0; i < 3; i++) {
                assertEquals(i + 1, written.get(i).join().version());
            }
            assertEquals(3, a.currentGuidelineVersion().join());
            assertEquals("rule 3", a.currentGuideline().join().orElseThrow().body());
        }
    }

    @Test
    void eachVoteRecordsTheGuidelineVersionInForceWhenItWasStored() throws Exception {
        try (var store = db.open(64)) {
            List<String> pairs = Fixtures.addPairs(store, 3);
            AccountStore a = store.accounts();
            long before = vote(store, pairs.get(0));
            a.addGuideline("text", "first", "admin").join();
            long underOne = vote(store, pairs.get(1));
            a.addGuideline("markdown", "second", "admin").join();
            long underTwo = vote(store, pairs.get(2));
            assertEquals(1, db.count("SELECT COUNT(*) FROM preferences WHERE id = " + before
                    + " AND guideline_version IS NULL"));
            assertEquals(1, db.count("SELECT guideline_version FROM preferences WHERE id = " + underOne));
            assertEquals(2, db.count("SELECT guideline_version FROM preferences WHERE id = " + underTwo));
        }
    }

    private static long vote(JdbcPreferenceStore store, String pairId) {
        var r = store.recordVote(new PreferenceStore.VoteRequest(pairId, PreferenceStore.Choice.A, "ann", null, null))
                .join();
        return assertInstanceOf(PreferenceStore.VoteResult.Created.class, r).vote().id();
    }
}
