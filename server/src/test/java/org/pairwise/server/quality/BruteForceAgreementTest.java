package org.pairwise.server.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The statistics against independent brute-force computations from their definitions, on random votes with missing
 * values over many seeds: alpha by enumerating pairs of pairable values (not through the coincidence matrix), kappa
 * by counting label matches over all pairs of ratings, and the majority rule by explicit frequency counts.
 */
class BruteForceAgreementTest {

    private static final int SEEDS = 300;

    /** Random votes: some units, some annotators, a few categories, each cell missing with a random probability. */
    private static List<Annotation> randomVotes(Random rnd) {
        int units = 1 + rnd.nextInt(30);
        int annotators = 2 + rnd.nextInt(5);
        int categories = 1 + rnd.nextInt(4);
        double missing = rnd.nextDouble() * 0.7;
        List<Annotation> votes = new ArrayList<>();
        for (int u = 0; u < units; u++) {
            for (int a = 0; a < annotators; a++) {
                if (rnd.nextDouble() >= missing) {
                    // a skewed label distribution, so that agreement is above chance on average
                    int label = rnd.nextDouble() < 0.4 ? u % categories : rnd.nextInt(categories);
                    votes.add(new Annotation("u" + u, "a" + a, List.of("a", "b", "tie", "both_bad").get(label)));
                }
            }
        }
        return votes;
    }

    /** Alpha from its definition: D_o over pairs of values within units, D_e over all pairs of pairable values. */
    private static double alphaByPairs(AnnotationTable t) {
        List<String> pairable = new ArrayList<>();
        double observedSum = 0;
        for (Map<String, String> labels : t.items().values()) {
            List<String> values = new ArrayList<>(labels.values());
            int m = values.size();
            if (m < 2) {
                continue;
            }
            pairable.addAll(values);
            double unitSum = 0;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < m; j++) {
                    if (i != j && !values.get(i).equals(values.get(j))) {
                        unitSum++;
                    }
                }
            }
            observedSum += unitSum / (m - 1);
        }
        int n = pairable.size();
        double expectedSum = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                if (i != j && !pairable.get(i).equals(pairable.get(j))) {
                    expectedSum++;
                }
            }
        }
        double dObserved = observedSum / n;
        double dExpected = expectedSum / ((double) n * (n - 1));
        return 1 - dObserved / dExpected;
    }

    /** Cohen: p_o by counting matching items, p_e as the chance that A's label on one item equals B's on another. */
    private static double cohenByCounting(AnnotationTable t, String x, String y) {
        List<String> as = new ArrayList<>();
        List<String> bs = new ArrayList<>();
        for (Map<String, String> labels : t.items().values()) {
            if (labels.containsKey(x) && labels.containsKey(y)) {
                as.add(labels.get(x));
                bs.add(labels.get(y));
            }
        }
        int n = as.size();
        double agree = 0;
        for (int i = 0; i < n; i++) {
            agree += as.get(i).equals(bs.get(i)) ? 1 : 0;
        }
        double chance = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                chance += as.get(i).equals(bs.get(j)) ? 1 : 0;
            }
        }
        double po = agree / n;
        double pe = chance / ((double) n * n);
        return (po - pe) / (1 - pe);
    }

    /** Fleiss: P_i over ordered pairs of distinct ratings, P̄_e as the chance that two draws from the pool agree. */
    private static double fleissByPairs(AnnotationTable t) {
        List<String> pool = new ArrayList<>();
        double sumP = 0;
        int items = 0;
        for (Map<String, String> labels : t.items().values()) {
            List<String> values = new ArrayList<>(labels.values());
            int m = values.size();
            if (m < 2) {
                continue;
            }
            pool.addAll(values);
            int agreeing = 0;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < m; j++) {
                    agreeing += i != j && values.get(i).equals(values.get(j)) ? 1 : 0;
                }
            }
            sumP += agreeing / (double) (m * (m - 1));
            items++;
        }
        double same = 0;
        for (String p : pool) {
            for (String q : pool) {
                same += p.equals(q) ? 1 : 0;
            }
        }
        double pe = same / ((double) pool.size() * pool.size());
        return (sumP / items - pe) / (1 - pe);
    }

    private static void assertSame(double expected, double actual, String what) {
        if (Double.isNaN(expected) || Double.isInfinite(expected)) {
            assertTrue(Double.isNaN(actual), what + ": expected undefined (NaN), got " + actual);
        } else {
            assertEquals(expected, actual, 1e-12, what);
        }
    }

    @Test
    void alphaMatchesItsPairableValuesDefinition() {
        int defined = 0;
        for (int seed = 0; seed < SEEDS; seed++) {
            AnnotationTable t = AnnotationTable.of(randomVotes(new Random(seed)));
            double brute = alphaByPairs(t);
            assertSame(brute, KrippendorffAlpha.of(t).alpha(), "alpha, seed " + seed);
            defined += Double.isNaN(brute) ? 0 : 1;
        }
        assertTrue(defined > SEEDS / 2, "most random tables have a defined alpha, got " + defined);
    }

    @Test
    void cohenKappaMatchesExplicitCounting() {
        int compared = 0;
        for (int seed = 0; seed < SEEDS; seed++) {
            AnnotationTable t = AnnotationTable.of(randomVotes(new Random(seed)));
            List<String> annotators = new ArrayList<>(t.annotators());
            for (int i = 0; i < annotators.size(); i++) {
                for (int j = i + 1; j < annotators.size(); j++) {
                    CohenKappa k = CohenKappa.of(t, annotators.get(i), annotators.get(j));
                    if (k.sharedItems() > 0) {
                        assertSame(cohenByCounting(t, annotators.get(i), annotators.get(j)), k.kappa(),
                                "kappa " + annotators.get(i) + "/" + annotators.get(j) + ", seed " + seed);
                        compared++;
                    }
                }
            }
        }
        assertTrue(compared > SEEDS, "compared " + compared + " annotator pairs");
    }

    @Test
    void fleissKappaMatchesExplicitPairCounting() {
        for (int seed = 0; seed < SEEDS; seed++) {
            AnnotationTable t = AnnotationTable.of(randomVotes(new Random(seed)));
            if (FleissKappa.of(t).items() == 0) {
                continue;
            }
            assertSame(fleissByPairs(t), FleissKappa.of(t).kappa(), "Fleiss, seed " + seed);
        }
    }

    /**
     * With every item rated by the same number of annotators, alpha and Fleiss' kappa are tied by
     * α = 1 − (n − 1)/n · (1 − κ), n the number of values (Krippendorff: alpha against Scott's pi, of which Fleiss'
     * kappa is the many-rater form). The two implementations share no code, so this checks both.
     */
    @Test
    void alphaAndFleissAgreeOnCompleteData() {
        for (int seed = 0; seed < SEEDS; seed++) {
            Random rnd = new Random(1000 + seed);
            List<Annotation> votes = new ArrayList<>();
            int units = 2 + rnd.nextInt(20);
            int raters = 2 + rnd.nextInt(5);
            for (int u = 0; u < units; u++) {
                for (int r = 0; r < raters; r++) {
                    votes.add(new Annotation("u" + u, "r" + r, "c" + (rnd.nextDouble() < 0.5 ? u % 3 : rnd.nextInt(3))));
                }
            }
            AnnotationTable t = AnnotationTable.of(votes);
            FleissKappa f = FleissKappa.of(t);
            KrippendorffAlpha a = KrippendorffAlpha.of(t);
            assertTrue(f.constantRaters());
            double n = units * raters;
            assertSame(1 - (n - 1) / n * (1 - f.kappa()), a.alpha(), "alpha vs Fleiss, seed " + seed);
        }
    }

    @Test
    void majorityAgreementMatchesExplicitFrequencyCounts() {
        for (int seed = 0; seed < SEEDS; seed++) {
            AnnotationTable t = AnnotationTable.of(randomVotes(new Random(seed)));
            Map<String, int[]> brute = new HashMap<>(); // compared, agreed, tied
            for (Map<String, String> labels : t.items().values()) {
                if (labels.size() < 2) {
                    continue;
                }
                for (String annotator : labels.keySet()) {
                    Map<String, Integer> freq = new HashMap<>();
                    labels.forEach((who, label) -> {
                        if (!who.equals(annotator)) {
                            freq.merge(label, 1, Integer::sum);
                        }
                    });
                    int max = freq.values().stream().mapToInt(Integer::intValue).max().orElseThrow();
                    List<String> top = freq.entrySet().stream().filter(e -> e.getValue() == max).map(Map.Entry::getKey)
                            .toList();
                    int[] c = brute.computeIfAbsent(annotator, k -> new int[3]);
                    if (top.size() > 1) {
                        c[2]++;
                    } else {
                        c[0]++;
                        c[1] += top.getFirst().equals(labels.get(annotator)) ? 1 : 0;
                    }
                }
            }
            List<MajorityAgreement> got = MajorityAgreement.perAnnotator(t);
            assertEquals(brute.size(), got.size(), "annotators with a multi-vote item, seed " + seed);
            for (MajorityAgreement m : got) {
                int[] c = brute.get(m.annotator());
                assertEquals(c[0], m.compared(), "compared " + m.annotator() + ", seed " + seed);
                assertEquals(c[1], m.agreed(), "agreed " + m.annotator() + ", seed " + seed);
                assertEquals(c[2], m.tied(), "tied " + m.annotator() + ", seed " + seed);
            }
        }
    }
}
