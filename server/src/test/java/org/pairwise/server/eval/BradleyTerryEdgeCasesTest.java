package org.pairwise.server.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.pairwise.server.store.PreferenceStore.Choice;

/** The documented, finite behaviour where the plain maximum-likelihood estimate is infinite or undetermined. */
class BradleyTerryEdgeCasesTest {

    private static List<Battle> repeat(int times, String a, String b, Choice c) {
        return new ArrayList<>(Collections.nCopies(times, new Battle(a, b, c)));
    }

    private static void assertFinite(BradleyTerry.Leaderboard lb) {
        for (BradleyTerry.Standing s : lb.standings()) {
            assertTrue(Double.isFinite(s.rating()) && Double.isFinite(s.low()) && Double.isFinite(s.high()), s.toString());
            assertTrue(s.low() <= s.high(), s.toString());
        }
    }

    /**
     * A player that never lost: 10-0 against the reference. By symmetry θ_a = −θ_ref = t, and the fit must solve the
     * one-dimensional likelihood equation 10(1 − σ(2t)) + ε/2 − ε σ(t) = 0 (ε = 1), here solved by bisection.
     */
    @Test
    void aPlayerThatNeverLostGetsTheFinitePosteriorMode() {
        BradleyTerry.Leaderboard lb = BradleyTerry.fit(List.of("ref"), repeat(10, "a", "ref", Choice.A),
                BradleyTerry.Options.defaults("ref"));
        assertFinite(lb);
        double lo = 0;
        double hi = 50;
        for (int it = 0; it < 200; it++) {
            double t = (lo + hi) / 2;
            double g = 10 * (1 - BradleyTerryFit.sigmoid(2 * t)) + 0.5 - BradleyTerryFit.sigmoid(t);
            if (g > 0) {
                lo = t;
            } else {
                hi = t;
            }
        }
        double expected = 1000 + BradleyTerry.ELO_PER_LOG_STRENGTH * 2 * lo;
        assertEquals(expected, lb.standing("a").rating(), 1e-6);
        assertEquals(lb.standing("a").logStrength(), -lb.standing("ref").logStrength(), 1e-9);
        // Same answer from the MM iteration.
        BradleyTerry.Leaderboard mm = BradleyTerry.fit(List.of("ref"), repeat(10, "a", "ref", Choice.A),
                BradleyTerry.Options.defaults("ref").withMethod(BradleyTerry.Method.MINORIZE_MAXIMIZE).withBootstrap(0, 0));
        assertEquals(expected, mm.standing("a").rating(), 1e-6);
        // Every bootstrap round is 10-0 too: a degenerate interval at the estimate.
        assertEquals(lb.standing("a").rating(), lb.standing("a").low(), 1e-6);
        assertEquals(lb.standing("a").rating(), lb.standing("a").high(), 1e-6);
        System.out.printf("10-0 against the reference: %.1f%n", lb.standing("a").rating());
    }

    @Test
    void aPlayerWithOneBattleIsFiniteWithAWideInterval() {
        List<Battle> battles = new ArrayList<>();
        for (int t = 0; t < 60; t++) {
            battles.add(new Battle("ref", "b", t % 3 == 0 ? Choice.B : Choice.A));
        }
        battles.add(new Battle("once", "ref", Choice.A));
        BradleyTerry.Leaderboard lb = BradleyTerry.fit(List.of("ref"), battles, BradleyTerry.Options.defaults("ref"));
        assertFinite(lb);
        BradleyTerry.Standing once = lb.standing("once");
        assertEquals(1, once.battles());
        assertTrue(once.rating() > 1000, "one win over the reference puts it above: " + once);
        assertTrue(once.high() - once.low() > 200, "one battle is little evidence: " + once);
        assertTrue(lb.standing("b").high() - lb.standing("b").low() < once.high() - once.low());
    }

    @Test
    void onlyTiesPutEveryoneAtTheAnchor() {
        List<Battle> battles = new ArrayList<>();
        battles.addAll(repeat(5, "ref", "b", Choice.TIE));
        battles.addAll(repeat(3, "b", "c", Choice.TIE));
        battles.addAll(repeat(2, "c", "ref", Choice.BOTH_BAD));
        for (BradleyTerry.Method m : BradleyTerry.Method.values()) {
            int rounds = m == BradleyTerry.Method.NEWTON ? 200 : 0;
            BradleyTerry.Leaderboard lb = BradleyTerry.fit(List.of(), battles,
                    BradleyTerry.Options.defaults("ref").withMethod(m).withBootstrap(rounds, 1));
            for (BradleyTerry.Standing s : lb.standings()) {
                assertEquals(1000, s.rating(), 1e-9, s.toString());
                assertEquals(1000, s.low(), 1e-9, s.toString());
                assertEquals(1000, s.high(), 1e-9, s.toString());
            }
            assertEquals(0.5, lb.winRates().cell("b", "c").winRate(), 0);
        }
    }

    @Test
    void aDisconnectedGraphIsFiniteAndSaysWhichPartEachPlayerIsIn() {
        List<Battle> battles = new ArrayList<>();
        battles.addAll(repeat(7, "ref", "b", Choice.A));
        battles.addAll(repeat(3, "ref", "b", Choice.B));
        battles.addAll(repeat(7, "c", "d", Choice.A));
        battles.addAll(repeat(3, "c", "d", Choice.B));
        BradleyTerry.Leaderboard lb = BradleyTerry.fit(List.of("ref", "b", "c", "d", "idle"), battles,
                BradleyTerry.Options.defaults("ref"));
        assertFinite(lb);
        assertEquals(0, lb.standing("ref").component());
        assertEquals(0, lb.standing("b").component());
        assertEquals(1, lb.standing("c").component());
        assertEquals(1, lb.standing("d").component());
        assertEquals(2, lb.standing("idle").component());
        // Mirrored parts, each centred on the average by the prior: c lands where ref is, d where b is.
        assertEquals(lb.standing("ref").rating(), lb.standing("c").rating(), 1e-6);
        assertEquals(lb.standing("b").rating(), lb.standing("d").rating(), 1e-6);
        // A player with no battle sits at the average (log-strength 0); its interval is the reference's uncertainty.
        assertEquals(0, lb.standing("idle").logStrength(), 1e-12);
        assertEquals(0, lb.standing("idle").battles());
        assertEquals(1000 - BradleyTerry.ELO_PER_LOG_STRENGTH * lb.standing("ref").logStrength(),
                lb.standing("idle").rating(), 1e-9);
    }

    @Test
    void noBattlesAtAllGiveTheAnchor() {
        BradleyTerry.Leaderboard lb = BradleyTerry.fit(List.of("ref", "v1"), List.of(),
                BradleyTerry.Options.defaults("ref"));
        assertEquals(1000, lb.standing("v1").rating(), 0);
        assertEquals(0, lb.counted());
        assertTrue(Double.isNaN(lb.winRates().cell("ref", "v1").winRate()));
    }

    @Test
    void bothBadIsATieByDefaultOrLeftOut() {
        List<Battle> battles = new ArrayList<>();
        battles.addAll(repeat(6, "ref", "b", Choice.A));
        battles.addAll(repeat(2, "ref", "b", Choice.B));
        List<Battle> withBothBad = new ArrayList<>(battles);
        withBothBad.addAll(repeat(4, "b", "ref", Choice.BOTH_BAD));
        List<Battle> withTies = new ArrayList<>(battles);
        withTies.addAll(repeat(4, "b", "ref", Choice.TIE));
        BradleyTerry.Options o = BradleyTerry.Options.defaults("ref").withBootstrap(50, 3);

        BradleyTerry.Leaderboard asTie = BradleyTerry.fit(List.of(), withBothBad, o);
        BradleyTerry.Leaderboard ties = BradleyTerry.fit(List.of(), withTies, o);
        assertEquals(ties.standing("b").rating(), asTie.standing("b").rating(), 1e-9);
        assertEquals(ties.standing("b").low(), asTie.standing("b").low(), 1e-9);
        assertEquals(12, asTie.counted());

        BradleyTerry.Leaderboard excluded = BradleyTerry.fit(List.of(), withBothBad,
                o.withBothBad(BradleyTerry.BothBad.EXCLUDE));
        BradleyTerry.Leaderboard without = BradleyTerry.fit(List.of(), battles, o);
        assertEquals(without.standing("b").rating(), excluded.standing("b").rating(), 1e-9);
        assertEquals(8, excluded.counted());
        assertEquals(4, excluded.excluded());
        WinRates.Cell cell = excluded.winRates().cell("ref", "b");
        assertEquals(new WinRates.Cell(12, 6, 2, 0, 4, 0.75), cell);
        assertEquals(new WinRates.Cell(12, 6, 2, 0, 4, (6 + 2.0) / 12), asTie.winRates().cell("ref", "b"));
        assertEquals(new WinRates.Cell(12, 2, 6, 0, 4, (2 + 2.0) / 12), asTie.winRates().cell("b", "ref"));
    }

    @Test
    void badInputIsRejectedClearly() {
        assertThrows(IllegalArgumentException.class, () -> new Battle("a", "a", Choice.A));
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> BradleyTerry.fit(List.of("a"), List.of(), BradleyTerry.Options.defaults("ref")));
        assertTrue(missing.getMessage().contains("reference"), missing.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BradleyTerry.Options.defaults("ref").withPriorTies(0));
        assertThrows(IllegalArgumentException.class, () -> BradleyTerry.Options.defaults("ref").withBootstrap(-1, 0));
    }

    @Test
    void theBootstrapIsReproducibleFromItsSeed() {
        List<Battle> battles = BradleyTerryFitTest.randomBattles(new java.util.Random(3), new double[] {0, 0.5, -0.4});
        BradleyTerry.Options o = BradleyTerry.Options.defaults("v0").withBootstrap(200, 42);
        BradleyTerry.Leaderboard one = BradleyTerry.fit(List.of("v0"), battles, o);
        BradleyTerry.Leaderboard two = BradleyTerry.fit(List.of("v0"), battles, o);
        BradleyTerry.Leaderboard other = BradleyTerry.fit(List.of("v0"), battles, o.withBootstrap(200, 43));
        assertEquals(one.standings(), two.standings());
        assertTrue(one.standing("v1").low() != other.standing("v1").low()
                || one.standing("v1").high() != other.standing("v1").high(), "another seed, other resamples");
    }
}
