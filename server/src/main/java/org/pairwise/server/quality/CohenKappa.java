package org.pairwise.server.quality;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Cohen's kappa (Cohen 1960) for two annotators over the items both labelled: κ = (p_o − p_e) / (1 − p_e), where p_o
 * is the share of shared items they label alike and p_e = Σ_c p_A(c)·p_B(c) the agreement expected if each labelled
 * independently with their own marginal rates. Undefined (NaN) when they share no item, or when p_e = 1 (both gave
 * one and the same category to every shared item: no disagreement was possible, so there is nothing to correct for).
 */
public record CohenKappa(String annotatorA, String annotatorB, int sharedItems, double observed, double expected,
                         double kappa) {

    public static CohenKappa of(AnnotationTable table, String annotatorA, String annotatorB) {
        if (annotatorA.equals(annotatorB)) {
            throw new IllegalArgumentException("Cohen's kappa needs two different annotators, got '" + annotatorA
                    + "' twice");
        }
        List<String> categories = table.categories();
        int k = categories.size();
        int[][] confusion = new int[k][k]; // confusion[c][d]: A said c, B said d
        int n = 0;
        for (Map<String, String> labels : table.items().values()) {
            String a = labels.get(annotatorA);
            String b = labels.get(annotatorB);
            if (a != null && b != null) {
                confusion[Collections.binarySearch(categories, a)][Collections.binarySearch(categories, b)]++;
                n++;
            }
        }
        return ofConfusion(annotatorA, annotatorB, confusion);
    }

    /** From a square contingency table: confusion[c][d] items that A put in category c and B in category d. */
    public static CohenKappa ofConfusion(String annotatorA, String annotatorB, int[][] confusion) {
        int k = confusion.length;
        long n = 0;
        long agree = 0;
        long[] rowA = new long[k];
        long[] colB = new long[k];
        for (int c = 0; c < k; c++) {
            if (confusion[c].length != k) {
                throw new IllegalArgumentException("the contingency table must be square, row " + c + " has "
                        + confusion[c].length + " cells for " + k + " categories");
            }
            for (int d = 0; d < k; d++) {
                int x = confusion[c][d];
                if (x < 0) {
                    throw new IllegalArgumentException("negative count " + x + " at (" + c + ", " + d + ")");
                }
                n += x;
                rowA[c] += x;
                colB[d] += x;
                if (c == d) {
                    agree += x;
                }
            }
        }
        if (n == 0) {
            return new CohenKappa(annotatorA, annotatorB, 0, Double.NaN, Double.NaN, Double.NaN);
        }
        double observed = agree / (double) n;
        double expected = 0;
        for (int c = 0; c < k; c++) {
            expected += (rowA[c] / (double) n) * (colB[c] / (double) n);
        }
        double kappa = expected == 1.0 ? Double.NaN : (observed - expected) / (1 - expected);
        return new CohenKappa(annotatorA, annotatorB, (int) n, observed, expected, kappa);
    }

    /**
     * Kappa for every pair of annotators (in the table's annotator order) that share at least minShared items; a
     * pair below that is left out rather than reported with a kappa from a handful of items. The contingency tables
     * are filled in one pass over the items, O(Σ m_i²) for m_i labels on item i, not O(annotators² · items): with
     * hundreds of annotators most pairs share nothing.
     */
    public static List<CohenKappa> allPairs(AnnotationTable table, int minShared) {
        List<String> annotators = new ArrayList<>(table.annotators());
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < annotators.size(); i++) {
            index.put(annotators.get(i), i);
        }
        List<String> categories = table.categories();
        int k = categories.size();
        long n = annotators.size();
        Map<Long, int[][]> confusions = new HashMap<>(); // key i·n + j for annotators i < j
        for (Map<String, String> labels : table.items().values()) {
            int m = labels.size();
            if (m < 2) {
                continue;
            }
            int[] who = new int[m];
            int[] what = new int[m];
            int x = 0;
            for (Map.Entry<String, String> e : labels.entrySet()) {
                who[x] = index.get(e.getKey());
                what[x++] = Collections.binarySearch(categories, e.getValue());
            }
            for (int p = 0; p < m; p++) {
                for (int q = 0; q < m; q++) {
                    if (who[p] < who[q]) {
                        confusions.computeIfAbsent(who[p] * n + who[q], key -> new int[k][k])[what[p]][what[q]]++;
                    }
                }
            }
        }
        List<CohenKappa> out = new ArrayList<>();
        for (int i = 0; i < annotators.size(); i++) {
            for (int j = i + 1; j < annotators.size(); j++) {
                int[][] confusion = confusions.get(i * n + j);
                if (confusion == null) {
                    continue;
                }
                CohenKappa kappa = ofConfusion(annotators.get(i), annotators.get(j), confusion);
                if (kappa.sharedItems() >= Math.max(1, minShared)) {
                    out.add(kappa);
                }
            }
        }
        return out;
    }
}
