package org.pairwise.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.pairwise.server.quality.FlagRule;
import org.pairwise.server.quality.QualityControl;
import org.pairwise.server.quality.QualityControl.Decision;
import org.pairwise.server.store.PreferenceStore.AnnotatorFlag;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.PreferenceStore.Finalising;
import org.pairwise.server.store.PreferenceStore.GoldPair;
import org.pairwise.server.store.PreferenceStore.VoteRequest;

/**
 * The automatic flags on a real SQLite file: raised exactly when the upper end of the 95% Wilson interval falls
 * below the threshold, never before flag_min_votes; the flagged annotator's later votes kept out of training_items;
 * an admin's un-flag wins over the same evidence and makes their votes trainable; only votes cast after the un-flag
 * flag them again. The expected vote counts come from a root-finder on the score inequality, not from the closed
 * form the server uses.
 */
@ParameterizedClass
@EnumSource(StoreKind.class)
class AutoFlagTest extends StoreContract {
    static final double Z = 1.959963984540054;
    static final Finalising EACH = new Finalising(PreferenceStore.Aggregation.EACH, 0, true);


    /**
     * The largest p with n(p̂ − p)² ≤ z²p(1 − p) (the Wilson interval's upper end), by bisection between p̂ and 1:
     * a second algorithm for the same bound.
     */
    static double upperByBisection(int k, int n) {
        double phat = k / (double) n;
        if (score(1.0, phat, n) <= 0) {
            return 1.0;
        }
        double inside = phat, outside = 1.0;
        for (int i = 0; i < 200; i++) {
            double mid = (inside + outside) / 2;
            if (score(mid, phat, n) <= 0) {
                inside = mid;
            } else {
                outside = mid;
            }
        }
        return inside;
    }

    private static double score(double p, double phat, int n) {
        return n * (phat - p) * (phat - p) - Z * Z * p * (1 - p);
    }

    @Test
    void theBisectionAgreesWithNewcombesPublishedUpperEnds() {
        // Newcombe (1998), Table I, method 3: 0/20 -> 0 to 0.1611, 1/29 -> 0.0061 to 0.1718, 81/263 -> to 0.3662.
        assertEquals(0.1611, upperByBisection(0, 20), 5e-5);
        assertEquals(0.1718, upperByBisection(1, 29), 5e-5);
        assertEquals(0.3662, upperByBisection(81, 263), 5e-5);
    }

    private static long vote(PreferenceStore store, String pair, String choice, String who) {
        var r = store.recordVote(new VoteRequest(pair, Choice.fromWire(choice), who, null, null)).join();
        return ((PreferenceStore.VoteResult.Created) r).vote().id();
    }

    private Set<Long> itemisedVotes(String annotator) throws Exception {
        Set<Long> out = new HashSet<>();
        try (Connection c = db.jdbc(); PreparedStatement ps = c.prepareStatement("SELECT t.vote_id FROM"
                + " training_items t JOIN preferences v ON v.id = t.vote_id WHERE v.annotator = ?")) {
            ps.setString(1, annotator);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getLong(1));
                }
            }
        }
        return out;
    }

    private static AnnotatorFlag flagOf(PreferenceStore store, String annotator) {
        return store.annotatorFlags().join().stream().filter(f -> f.annotator().equals(annotator)).findFirst()
                .orElse(null);
    }

    @Test
    void goldAccuracyFlagsWhenConfidentlyBelowAndAnAdminsUnflagWins() throws Exception {
        try (PreferenceStore store = db.open(1000)) {
            List<String> policy = Fixtures.addPairs(store, 16);
            List<String> gold = new ArrayList<>();
            List<String[]> answers = new ArrayList<>();  // {right, wrong} side of each gold pair
            for (int i = 0; i < 26; i++) {
                boolean rightOnA = i % 3 != 0;
                gold.add(store.addGoldPair(new GoldPair("gold " + i, null, "right " + i, "wrong " + i), rightOnA)
                        .join());
                answers.add(rightOnA ? new String[] {"a", "b"} : new String[] {"b", "a"});
            }
            double threshold = 0.7;
            int minVotes = 10;
            QualityControl control = new QualityControl(store, new FlagRule(threshold, null, minVotes));

            // bob: his first 5 gold answers right, every later one wrong; ann: every one right. After each gold
            // vote the check runs, then bob votes on a policy pair and the finaliser itemises what is final.
            int expectedFlagAt = -1;
            for (int n = 1; n <= 26 && expectedFlagAt < 0; n++) {
                if (n >= minVotes && upperByBisection(Math.min(n, 5), n) < threshold) {
                    expectedFlagAt = n;
                }
            }
            assertEquals(12, expectedFlagAt, "by hand: 5/10 -> upper 0.763, 5/11 -> 0.720, 5/12 -> 0.681");
            List<Long> bobPolicyVotes = new ArrayList<>();
            for (int i = 0; i < 14; i++) {
                int n = i + 1;
                vote(store, gold.get(i), answers.get(i)[i < 5 ? 0 : 1], "bob");
                vote(store, gold.get(i), answers.get(i)[0], "ann");
                List<Decision> raised = control.check();
                if (n == expectedFlagAt) {
                    assertEquals(1, raised.size(), "flagged after gold vote " + n + ": " + raised);
                    assertEquals("bob", raised.getFirst().annotator());
                    assertEquals("gold accuracy 0.42 (95% CI 0.19-0.68) below 0.70 after 12 gold votes",
                            raised.getFirst().reason());
                } else {
                    assertEquals(List.of(), raised, "after gold vote " + n);
                }
                assertEquals(n >= expectedFlagAt, flagOf(store, "bob") != null && flagOf(store, "bob").flagged(),
                        "bob's flag after gold vote " + n);
                bobPolicyVotes.add(vote(store, policy.get(i), "a", "bob"));
                store.finalise(EACH).join();
            }
            AnnotatorFlag auto = flagOf(store, "bob");
            assertEquals(QualityStore.AUTO, auto.changedBy());
            assertEquals(null, flagOf(store, "ann"), "ann is never flagged");

            // The policy votes bob cast before the flag were itemised; those after it (the 12th on) are not.
            Set<Long> before = new HashSet<>(bobPolicyVotes.subList(0, expectedFlagAt - 1));
            assertEquals(before, itemisedVotes("bob"));

            // The admin un-flags him: the same evidence does not flag him again, and his held votes become
            // trainable.
            store.setAnnotatorFlag("bob", false, "reviewed by hand", "admin").join();
            assertEquals(List.of(), control.check());
            assertEquals(List.of(), control.check(), "nothing changed: the check is skipped");
            assertFalse(flagOf(store, "bob").flagged());
            assertEquals("admin", flagOf(store, "bob").changedBy());
            store.finalise(EACH).join();
            assertEquals(new HashSet<>(bobPolicyVotes), itemisedVotes("bob"));

            // New evidence after the un-flag: only it counts, so it takes flag_min_votes new gold votes (all wrong:
            // 0/10, upper 0.278) before he is flagged again; 9 are not enough whatever the old ones said.
            long unflaggedAt = flagOf(store, "bob").changedAtMillis();
            Thread.sleep(5);  // votes from now on are strictly later than the un-flag
            for (int j = 0; j < 10; j++) {
                int i = 14 + j;
                vote(store, gold.get(i), answers.get(i)[1], "bob");
                List<Decision> raised = control.check();
                if (j < 9) {
                    assertEquals(List.of(), raised, "new gold vote " + (j + 1));
                    assertFalse(flagOf(store, "bob").flagged());
                } else {
                    assertEquals(List.of(new Decision("bob", "gold accuracy 0.00 (95% CI 0.00-0.28) below 0.70"
                            + " after 10 gold votes, counting only votes since admin un-flagged them", unflaggedAt)),
                            raised);
                    assertTrue(flagOf(store, "bob").flagged());
                    assertEquals(QualityStore.AUTO, flagOf(store, "bob").changedBy());
                }
            }
        }
    }

    @Test
    void aPersonsFlagIsNeverOverwrittenAndAStaleDecisionIsNotWritten() throws Exception {
        try (PreferenceStore store = db.open(1000)) {
            List<String> gold = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                gold.add(store.addGoldPair(new GoldPair("gold " + i, null, "right", "wrong"), true).join());
            }
            QualityControl control = new QualityControl(store, new FlagRule(0.9, null, 3));
            store.setAnnotatorFlag("cat", true, "checked by hand", "admin").join();
            for (String g : gold) {
                vote(store, g, "b", "cat");
                vote(store, g, "b", "dan");
            }
            // dan: 0/3, upper 0.56 < 0.9: flagged; cat was flagged by a person, and stays as the person left it.
            assertEquals(List.of("dan"), control.check().stream().map(Decision::annotator).toList());
            AnnotatorFlag cat = flagOf(store, "cat");
            assertEquals(List.of(true, "checked by hand", "admin"), List.of(cat.flagged(), cat.reason(),
                    cat.changedBy()));

            // A decision taken on a row that changed since it was read (an admin acted meanwhile) is not written.
            store.setAnnotatorFlag("eve", false, "trusted", "admin").join();
            assertFalse(store.quality().raiseAutoFlag("eve", "stale", null).join(), "the check saw no row");
            long at = flagOf(store, "eve").changedAtMillis();
            assertFalse(store.quality().raiseAutoFlag("eve", "stale", at - 1).join(), "an older row");
            assertFalse(flagOf(store, "eve").flagged());
            assertTrue(store.quality().raiseAutoFlag("eve", "current", at).join(), "the row as it is now");
            assertEquals("current", flagOf(store, "eve").reason());
        }
    }

    @Test
    void agreementWithTheMajorityFlagsWhenConfidentlyBelow() throws Exception {
        try (PreferenceStore store = db.open(1000)) {
            List<String> pairs = Fixtures.addPairs(store, 12);
            QualityControl control = new QualityControl(store, new FlagRule(null, 0.6, 10));
            // On every pair ann and ben say a, dan says b. For dan the others' majority is a: disagreed. For ann the
            // others are ben (a) and dan (b): tied, not compared; the same for ben. So only dan has evidence.
            for (int i = 0; i < 12; i++) {
                vote(store, pairs.get(i), "a", "ann");
                vote(store, pairs.get(i), "a", "ben");
                vote(store, pairs.get(i), "b", "dan");
                List<Decision> raised = control.check();
                int n = i + 1;
                if (n == 10) {
                    assertEquals(0.2775, upperByBisection(0, 10), 5e-5);
                    assertEquals(List.of(new Decision("dan", "agreement with the majority 0.00 (95% CI 0.00-0.28)"
                            + " below 0.60 after 10 votes compared with a majority", null)), raised);
                } else {
                    assertEquals(List.of(), raised, "after pair " + n);
                }
            }
        }
    }
}
