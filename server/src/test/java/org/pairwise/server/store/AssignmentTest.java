package org.pairwise.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.PreferenceStore.LeasedPair;
import org.pairwise.server.store.PreferenceStore.VoteRequest;

/** Leases on a real SQLite file: at most k people per pair, nobody twice, pairs short of votes first, expiry. */
@ParameterizedClass
@EnumSource(StoreKind.class)
class AssignmentTest extends StoreContract {
    private static final long MINUTE = 60_000;

    JdbcPreferenceStore store;

    @BeforeEach
    void open() throws Exception {
        store = db.open(10_000);
    }

    @AfterEach
    void close() throws Exception {
        store.close();
    }

    private List<String> pairs(int n, int k) {
        long promptId = store.addPrompt("test", "the prompt", null).join();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            store.addPair(Fixtures.pair("p" + i, promptId, i, 0), k).join();
            ids.add("p" + i);
        }
        return ids;
    }

    @Test
    void manyPeopleLeasingAtOnceGetEachPairAtMostKTimesAndNeverTwice() throws Exception {
        int k = 3, people = 24, threads = 48;
        List<String> ids = pairs(40, k);
        Map<String, Set<String>> got = new ConcurrentHashMap<>();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<?>> done = new ArrayList<>();
        // Two threads per person: one person's concurrent requests must not get the same pair either.
        for (int t = 0; t < threads; t++) {
            String who = "person-" + (t % people);
            done.add(pool.submit(() -> {
                start.await();
                for (Optional<LeasedPair> l; (l = store.leaseNext(who, "policy", false, MINUTE).join()).isPresent(); ) {
                    assertTrue(got.computeIfAbsent(who, w -> ConcurrentHashMap.newKeySet())
                            .add(l.get().pair().pairId()), who + " got " + l.get().pair().pairId() + " twice");
                }
                return null;
            }));
        }
        start.countDown();
        for (Future<?> f : done) {
            f.get();
        }
        pool.shutdown();
        Map<String, Integer> perPair = new HashMap<>();
        got.values().forEach(s -> s.forEach(p -> perPair.merge(p, 1, Integer::sum)));
        // 24 people, 40 pairs of k = 3: the 120 slots are all taken, none twice.
        assertEquals(ids.size(), perPair.size());
        perPair.forEach((p, n) -> assertEquals(k, n, p));
        assertEquals(ids.size() * k, db.count("SELECT COUNT(*) FROM assignments"));
        assertEquals(ids.size() * k, db.count("SELECT SUM(assigned) FROM pairs"));
    }

    @Test
    void threeAnnotatorsVotingOnWhatTheyAreGivenGiveEveryPairExactlyThreeVotes() throws Exception {
        List<String> ids = pairs(10, 3);
        for (String who : List.of("ann", "ben", "cy")) {
            for (Optional<LeasedPair> l; (l = store.leaseNext(who, "policy", false, MINUTE).join()).isPresent(); ) {
                assertTrue(store.recordVote(new VoteRequest(l.get().pair().pairId(), Choice.A, who, null, null))
                        .join() instanceof PreferenceStore.VoteResult.Created);
            }
        }
        for (String p : ids) {
            assertEquals(3, db.count("SELECT COUNT(DISTINCT annotator) FROM preferences"
                    + " WHERE pair_id = '" + p + "'"), p);
        }
        assertEquals(30, db.count("SELECT COUNT(*) FROM assignments WHERE state = 'voted'"));
    }

    @Test
    void pairsShortOfVotesGoFirstAndAFullPairIsNotHandedOut() {
        pairs(3, 2);
        assertTrue(store.lease("p2", "ann", MINUTE).join());
        // Only started pairs: p2 (one of its two slots taken) is the only candidate.
        assertEquals("p2", store.leaseNext("ben", "policy", true, MINUTE).join().orElseThrow().pair().pairId());
        assertEquals(Optional.empty(), store.leaseNext("cy", "policy", true, MINUTE).join());
        assertFalse(store.lease("p2", "cy", MINUTE).join(), "k = 2 slots are taken");
        // Among all pairs, one closest to its k votes comes first: p0 has a slot taken now.
        assertTrue(store.lease("p0", "ann", MINUTE).join());
        assertEquals("p0", store.leaseNext("cy", "policy", false, MINUTE).join().orElseThrow().pair().pairId());
    }

    @Test
    void anExpiredLeaseGivesItsSlotBackButThatPersonNeverGetsThePairAgain() throws Exception {
        pairs(1, 1);
        assertTrue(store.lease("p0", "ann", 1).join());
        Thread.sleep(20);
        assertFalse(store.lease("p0", "ann", MINUTE).join(), "ann was handed p0 already");
        assertEquals("p0", store.leaseNext("ben", "policy", true, MINUTE).join().orElseThrow().pair().pairId());
        assertEquals(1, db.count("SELECT COUNT(*) FROM assignments WHERE state = 'expired'"
                + " AND annotator = 'ann'"));
        assertEquals(1, db.count("SELECT assigned FROM pairs WHERE pair_id = 'p0'"));
    }

    @Test
    void aVoteEndsTheLeaseAndAVoteWithoutOneTakesAFreeSlot() throws Exception {
        pairs(2, 2);
        assertTrue(store.lease("p0", "ann", MINUTE).join());
        store.recordVote(new VoteRequest("p0", Choice.A, "ann", null, null)).join();
        store.recordVote(new VoteRequest("p1", Choice.B, "ben", null, null)).join();  // never leased: own prompt
        assertEquals("voted", scalar("SELECT state FROM assignments WHERE pair_id = 'p0' AND annotator = 'ann'"));
        assertEquals("1", scalar("SELECT assigned FROM pairs WHERE pair_id = 'p0'"));
        assertEquals("1", scalar("SELECT assigned FROM pairs WHERE pair_id = 'p1'"));
        assertFalse(store.lease("p1", "ben", MINUTE).join(), "ben voted on p1: handed it once already");
    }

    @Test
    void theDatabaseItselfRefusesMoreThanKHolders() throws Exception {
        pairs(1, 2);
        try (Connection c = db.jdbc(); Statement st = c.createStatement()) {
            assertThrows(SQLException.class, () -> st.executeUpdate(
                    "UPDATE pairs SET assigned = votes_wanted + 1 WHERE pair_id = 'p0'"));
            st.executeUpdate("INSERT INTO assignments VALUES ('p0', 'ann', 0, 0, 'leased')");
            assertThrows(SQLException.class, () -> st.executeUpdate(
                    "INSERT INTO assignments VALUES ('p0', 'ann', 1, 1, 'leased')"));
        }
        Set<String> states = new HashSet<>();
        try (Connection c = db.jdbc(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT state FROM assignments")) {
            while (rs.next()) {
                states.add(rs.getString(1));
            }
        }
        assertEquals(Set.of("leased"), states);
    }

    private String scalar(String sql) throws SQLException {
        try (Connection c = db.jdbc(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
