package org.pairwise.server.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.pairwise.server.store.PreferenceStore.Choice;

/** The two fitting methods against each other and against closed forms. */
class BradleyTerryFitTest {

    /** Random battles: 2-8 players of random strength, 1-300 votes on random pairs (sparse, sometimes disconnected). */
    static List<Battle> randomBattles(Random rnd, double[] strengths) {
        int k = strengths.length;
        int n = 1 + rnd.nextInt(300);
        List<Battle> out = new ArrayList<>();
        for (int t = 0; t < n; t++) {
            int i = rnd.nextInt(k);
            int j = rnd.nextInt(k - 1);
            j = j >= i ? j + 1 : j;
            double u = rnd.nextDouble();
            double pWin = 1 / (1 + Math.exp(strengths[j] - strengths[i]));
            Choice c = u < 0.08 ? Choice.TIE : u < 0.12 ? Choice.BOTH_BAD : rnd.nextDouble() < pWin ? Choice.A : Choice.B;
            out.add(new Battle("v" + i, "v" + j, c));
        }
        return out;
    }

    static List<String> players(int k) {
        List<String> p = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            p.add("v" + i);
        }
        return p;
    }

    @Test
    void newtonAndMinorizeMaximizeAgreeToOneMillionthOfARatingPoint() {
        double worst = 0;
        for (int seed = 0; seed < 60; seed++) {
            Random rnd = new Random(seed);
            int k = 2 + rnd.nextInt(7);
            double[] strengths = new double[k];
            for (int i = 0; i < k; i++) {
                strengths[i] = rnd.nextGaussian() * 1.2;
            }
            List<Battle> battles = randomBattles(rnd, strengths);
            double prior = seed % 3 == 0 ? 0.05 : 1.0;
            BradleyTerry.Options o = BradleyTerry.Options.defaults("v0").withBootstrap(0, 0).withPriorTies(prior)
                    .withBothBad(seed % 2 == 0 ? BradleyTerry.BothBad.TIE : BradleyTerry.BothBad.EXCLUDE);
            BradleyTerry.Leaderboard newton = BradleyTerry.fit(players(k), battles, o);
            BradleyTerry.Leaderboard mm = BradleyTerry.fit(players(k), battles,
                    o.withMethod(BradleyTerry.Method.MINORIZE_MAXIMIZE));
            for (String p : players(k)) {
                double d = Math.abs(newton.standing(p).rating() - mm.standing(p).rating());
                worst = Math.max(worst, d);
                assertEquals(newton.standing(p).rating(), mm.standing(p).rating(), 1e-6, "seed " + seed + " " + p);
                assertEquals(newton.standing(p).logStrength(), mm.standing(p).logStrength(), 1e-8,
                        "seed " + seed + " " + p);
            }
        }
        System.out.printf("Newton vs MM: largest rating difference over 60 random data sets %.3g points%n", worst);
    }

    @Test
    void theMaximumIsAStationaryPointOfTheLikelihood() {
        Random rnd = new Random(11);
        double[][] wins = new double[5][5];
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < 5; j++) {
                wins[i][j] = i == j ? 0 : rnd.nextInt(20) + (rnd.nextBoolean() ? 0.5 : 0);
            }
        }
        for (double[] theta : List.of(BradleyTerryFit.newton(wins, 1, null), BradleyTerryFit.minorizeMaximize(wins, 1))) {
            for (double g : BradleyTerryFit.gradient(wins, 1, theta)) {
                assertEquals(0, g, 1e-9);
            }
            // and a maximum: any small move lowers the objective
            double best = BradleyTerryFit.logLikelihood(wins, 1, theta);
            for (int i = 0; i < 5; i++) {
                for (double h : new double[] {-1e-4, 1e-4}) {
                    double[] moved = theta.clone();
                    moved[i] += h;
                    assertTrue(BradleyTerryFit.logLikelihood(wins, 1, moved) < best);
                }
            }
        }
    }

    /** The gradient the Newton step uses against central finite differences of the objective. */
    @Test
    void gradientMatchesFiniteDifferences() {
        double[][] wins = {{0, 3, 1.5, 0}, {2, 0, 4, 1}, {0.5, 0, 0, 7}, {2, 1, 0, 0}};
        double[] theta = {0.3, -0.7, 1.1, 0.05};
        double[] g = BradleyTerryFit.gradient(wins, 0.7, theta);
        for (int i = 0; i < theta.length; i++) {
            double[] up = theta.clone();
            double[] down = theta.clone();
            up[i] += 1e-6;
            down[i] -= 1e-6;
            double fd = (BradleyTerryFit.logLikelihood(wins, 0.7, up) - BradleyTerryFit.logLikelihood(wins, 0.7, down))
                    / 2e-6;
            assertEquals(fd, g[i], 1e-6);
        }
    }

    /**
     * With two players and a negligible prior the MLE is closed-form: θ_A − θ_B = ln(w_AB / w_BA). 75 wins of 100
     * is odds 3, i.e. 400·log10(3) = 190.85 rating points: the Elo scale.
     */
    @Test
    void ratingsAreOnTheEloScale() {
        List<Battle> battles = new ArrayList<>();
        for (int t = 0; t < 100; t++) {
            battles.add(new Battle("a", "ref", t < 75 ? Choice.A : Choice.B));
        }
        BradleyTerry.Leaderboard lb = BradleyTerry.fit(List.of("ref"), battles,
                BradleyTerry.Options.defaults("ref").withPriorTies(1e-9).withBootstrap(0, 0));
        assertEquals(1000, lb.standing("ref").rating(), 1e-12);
        assertEquals(1000 + 400 * Math.log10(3), lb.standing("a").rating(), 1e-4);
        double p = 1 / (1 + Math.pow(10, -(lb.standing("a").rating() - 1000) / 400));
        assertEquals(0.75, p, 1e-9);
    }
}
