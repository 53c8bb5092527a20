package org.pairwise.server.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.pairwise.server.store.PreferenceStore.Choice;

/**
 * A Bradley-Terry leaderboard from battle votes, as Chatbot Arena computes one: maximum-likelihood log-strengths
 * (ties as half a win to each side) shown on the Elo-like scale, rating = anchor + (400/ln 10)·(θ_i − θ_ref), so 400
 * points are a factor 10 in the odds of winning and the reference player sits at the anchor (1000); intervals from a
 * percentile bootstrap over votes.
 *
 * <p>Edge cases, all finite through the prior of {@link BradleyTerryFit} ({@code priorTies} virtual ties of each
 * player with an average player): a player that never lost (or never won) gets a large but finite rating that
 * shrinks as real losses arrive; a player with one battle sits near the average, with a wide interval; only ties
 * give every player the anchor; a player with no battle gets the average player's rating. When the comparison graph
 * is disconnected, the offset between its parts comes from the prior alone (each part is centred on the average),
 * not from evidence: {@link Standing#component} says which part a player is in (0 is the reference's), and ratings
 * across parts should not be read as a comparison.
 */
public final class BradleyTerry {
    private BradleyTerry() {}

    /** Rating points per unit of log-strength: 400 points multiply the odds by 10. */
    public static final double ELO_PER_LOG_STRENGTH = 400 / Math.log(10);

    /** What a both-bad vote is in the likelihood: a tie (default) or nothing. */
    public enum BothBad { TIE, EXCLUDE }

    /** The fitting method of the point estimate and of each bootstrap round. */
    public enum Method { NEWTON, MINORIZE_MAXIMIZE }

    /**
     * reference: the player anchored at anchorRating (the reference policy, v0); priorTies: virtual ties per player
     * with an average player (must be > 0); bootstrapRounds: resamples of the votes (0: no intervals); confidence:
     * the central share of the bootstrap distribution the interval spans; seed: the bootstrap's random seed.
     */
    public record Options(String reference, double anchorRating, BothBad bothBad, double priorTies, int bootstrapRounds,
                          double confidence, long seed, Method method) {
        public Options {
            if (reference == null) {
                throw new IllegalArgumentException("a leaderboard needs a reference player");
            }
            if (!(priorTies > 0) || Double.isInfinite(priorTies)) {
                throw new IllegalArgumentException("priorTies must be > 0 (the MLE can be infinite without it), got "
                        + priorTies);
            }
            if (bootstrapRounds < 0) {
                throw new IllegalArgumentException("bootstrapRounds must be >= 0, got " + bootstrapRounds);
            }
            if (!(confidence > 0 && confidence < 1)) {
                throw new IllegalArgumentException("confidence must be in (0, 1), got " + confidence);
            }
        }

        /** Anchor 1000, both-bad as a tie, one prior tie per player, 200 bootstrap rounds, 95%, seed 0, Newton. */
        public static Options defaults(String reference) {
            return new Options(reference, 1000, BothBad.TIE, 1.0, 200, 0.95, 0L, Method.NEWTON);
        }

        public Options withBothBad(BothBad b) {
            return new Options(reference, anchorRating, b, priorTies, bootstrapRounds, confidence, seed, method);
        }

        public Options withPriorTies(double p) {
            return new Options(reference, anchorRating, bothBad, p, bootstrapRounds, confidence, seed, method);
        }

        public Options withBootstrap(int rounds, long s) {
            return new Options(reference, anchorRating, bothBad, priorTies, rounds, confidence, s, method);
        }

        public Options withMethod(Method m) {
            return new Options(reference, anchorRating, bothBad, priorTies, bootstrapRounds, confidence, seed, m);
        }
    }

    /**
     * One player's line: the rating, its bootstrap interval [low, high] (both equal to the rating without bootstrap;
     * the reference's is [anchor, anchor] by construction: every round is anchored on it), the log-strength θ, the
     * votes it took part in, and its part of the comparison graph.
     */
    public record Standing(String player, double rating, double low, double high, double logStrength, int battles,
                           int component) {}

    /** Standings from the highest rating down; counted and excluded (both-bad under EXCLUDE) votes. */
    public record Leaderboard(List<Standing> standings, WinRates winRates, int counted, int excluded) {
        public Standing standing(String player) {
            return standings.stream().filter(s -> s.player().equals(player)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no player '" + player + "' on the leaderboard"));
        }
    }

    /**
     * Fits the leaderboard. players: those to list even without battles (the reference, pinned versions), in
     * display order for equal ratings; every player in a battle is listed too.
     */
    public static Leaderboard fit(Collection<String> players, List<Battle> battles, Options options) {
        Map<String, Integer> index = new LinkedHashMap<>();
        for (String p : players) {
            index.putIfAbsent(p, index.size());
        }
        for (Battle b : battles) {
            index.putIfAbsent(b.playerA(), index.size());
            index.putIfAbsent(b.playerB(), index.size());
        }
        Integer ref = index.get(options.reference());
        if (ref == null) {
            throw new IllegalArgumentException("the reference '" + options.reference() + "' is not among the players");
        }
        List<String> names = new ArrayList<>(index.keySet());
        int k = names.size();
        int n = battles.size();
        int[] a = new int[n];
        int[] b = new int[n];
        Choice[] choices = new Choice[n];
        for (int t = 0; t < n; t++) {
            a[t] = index.get(battles.get(t).playerA());
            b[t] = index.get(battles.get(t).playerB());
            choices[t] = battles.get(t).choice();
        }
        WinRates winRates = WinRates.of(names, a, b, choices, options.bothBad());

        // The counted votes as (i, j, credit of i): 1 a win, 0 a loss, ½ a tie.
        List<Integer> kept = new ArrayList<>();
        for (int t = 0; t < n; t++) {
            if (choices[t] != Choice.BOTH_BAD || options.bothBad() == BothBad.TIE) {
                kept.add(t);
            }
        }
        int m = kept.size();
        int[] ci = new int[m];
        int[] cj = new int[m];
        double[] credit = new double[m];
        for (int s = 0; s < m; s++) {
            int t = kept.get(s);
            ci[s] = a[t];
            cj[s] = b[t];
            credit[s] = switch (choices[t]) {
                case A -> 1.0;
                case B -> 0.0;
                case TIE, BOTH_BAD -> 0.5;
            };
        }
        int[] everyVote = new int[m];
        Arrays.setAll(everyVote, s -> s);
        double[] theta = solve(wins(k, ci, cj, credit, everyVote), options, null);
        double[] rating = ratings(theta, ref, options.anchorRating());

        double[] low = rating.clone();
        double[] high = rating.clone();
        if (options.bootstrapRounds() > 0 && m > 0) {
            double[][] samples = new double[k][options.bootstrapRounds()];
            SplittableRandom rnd = new SplittableRandom(options.seed());
            int[] draw = new int[m];
            for (int r = 0; r < options.bootstrapRounds(); r++) {
                for (int s = 0; s < m; s++) {
                    draw[s] = rnd.nextInt(m);
                }
                double[] rr = ratings(solve(wins(k, ci, cj, credit, draw), options, theta), ref, options.anchorRating());
                for (int i = 0; i < k; i++) {
                    samples[i][r] = rr[i];
                }
            }
            double tail = (1 - options.confidence()) / 2;
            for (int i = 0; i < k; i++) {
                Arrays.sort(samples[i]);
                low[i] = quantile(samples[i], tail);
                high[i] = quantile(samples[i], 1 - tail);
            }
        }

        int[] component = components(k, ci, cj, ref);
        int[] perPlayer = new int[k];
        for (int t = 0; t < n; t++) {
            perPlayer[a[t]]++;
            perPlayer[b[t]]++;
        }
        List<Standing> standings = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            standings.add(new Standing(names.get(i), rating[i], low[i], high[i], theta[i], perPlayer[i], component[i]));
        }
        standings.sort(Comparator.comparingDouble(Standing::rating).reversed());
        return new Leaderboard(List.copyOf(standings), winRates, m, n - m);
    }

    /** wins (K,K) from the votes picked by draw (indices into ci, cj, credit; repeats allowed). */
    static double[][] wins(int k, int[] ci, int[] cj, double[] credit, int[] draw) {
        double[][] w = new double[k][k];
        for (int s : draw) {
            w[ci[s]][cj[s]] += credit[s];
            w[cj[s]][ci[s]] += 1 - credit[s];
        }
        return w;
    }

    private static double[] solve(double[][] wins, Options options, double[] start) {
        return switch (options.method()) {
            case NEWTON -> BradleyTerryFit.newton(wins, options.priorTies(), start);
            case MINORIZE_MAXIMIZE -> BradleyTerryFit.minorizeMaximize(wins, options.priorTies());
        };
    }

    static double[] ratings(double[] theta, int ref, double anchor) {
        double[] r = new double[theta.length];
        for (int i = 0; i < theta.length; i++) {
            r[i] = anchor + ELO_PER_LOG_STRENGTH * (theta[i] - theta[ref]);
        }
        return r;
    }

    /** The q-quantile of sorted values with linear interpolation between order statistics (R's type 7). */
    static double quantile(double[] sorted, double q) {
        double h = (sorted.length - 1) * q;
        int lo = (int) Math.floor(h);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }

    /** Connected parts of the graph of counted votes; the reference's part is 0, the others numbered in order. */
    private static int[] components(int k, int[] ci, int[] cj, int ref) {
        int[] parent = new int[k];
        Arrays.setAll(parent, i -> i);
        for (int s = 0; s < ci.length; s++) {
            parent[find(parent, ci[s])] = find(parent, cj[s]);
        }
        int[] id = new int[k];
        Arrays.fill(id, -1);
        Map<Integer, Integer> rootToId = new LinkedHashMap<>();
        rootToId.put(find(parent, ref), 0);
        for (int i = 0; i < k; i++) {
            id[i] = rootToId.computeIfAbsent(find(parent, i), r -> rootToId.size());
        }
        return id;
    }

    private static int find(int[] parent, int i) {
        while (parent[i] != i) {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        return i;
    }
}
