package org.pairwise.server.quality;

/**
 * Krippendorff's alpha for nominal data with missing values, in the coincidence-matrix form of Krippendorff,
 * "Computing Krippendorff's Alpha-Reliability" (2011): a unit (item) with m_u ≥ 2 values adds, for every ordered pair
 * of its values from different annotators, 1/(m_u − 1) to the coincidence o_ck of their categories; units with one
 * value are not pairable and drop out. With n_c = Σ_k o_ck and n = Σ_c n_c (the pairable values),
 * α = 1 − D_o/D_e, D_o = Σ_{c≠k} o_ck / n and D_e = Σ_{c≠k} n_c·n_k / (n(n − 1)).
 *
 * <p>NaN when fewer than two values are pairable or when all pairable values are one category (D_e = 0: alpha is
 * 0/0, reliability cannot be assessed from data without variation).
 */
public record KrippendorffAlpha(int pairableUnits, int pairableValues, double observedDisagreement,
                                double expectedDisagreement, double alpha, double[][] coincidences) {

    public static KrippendorffAlpha of(AnnotationTable table) {
        return ofCounts(table.countsPerItem(2));
    }

    /** counts[u][c]: how many values unit u has in category c (Krippendorff's values-by-units matrix, transposed). */
    public static KrippendorffAlpha ofCounts(int[][] counts) {
        int k = counts.length == 0 ? 0 : counts[0].length;
        double[][] o = new double[k][k];
        int units = 0;
        for (int[] row : counts) {
            if (row.length != k) {
                throw new IllegalArgumentException("every unit needs a count for each of the " + k + " categories");
            }
            int mu = 0;
            for (int x : row) {
                if (x < 0) {
                    throw new IllegalArgumentException("negative count " + x);
                }
                mu += x;
            }
            if (mu < 2) {
                continue;
            }
            units++;
            for (int c = 0; c < k; c++) {
                for (int d = 0; d < k; d++) {
                    // ordered pairs of values from different annotators: n_uc·n_ud, or n_uc·(n_uc − 1) on the diagonal
                    long pairs = c == d ? (long) row[c] * (row[c] - 1) : (long) row[c] * row[d];
                    o[c][d] += pairs / (double) (mu - 1);
                }
            }
        }
        double[] nc = new double[k];
        double n = 0;
        double disagreeing = 0;
        for (int c = 0; c < k; c++) {
            for (int d = 0; d < k; d++) {
                nc[c] += o[c][d];
                if (c != d) {
                    disagreeing += o[c][d];
                }
            }
            n += nc[c];
        }
        double expectedPairs = 0; // Σ_{c≠k} n_c n_k
        for (int c = 0; c < k; c++) {
            for (int d = 0; d < k; d++) {
                if (c != d) {
                    expectedPairs += nc[c] * nc[d];
                }
            }
        }
        int pairable = (int) Math.round(n);
        if (pairable < 2 || expectedPairs == 0) {
            return new KrippendorffAlpha(units, pairable, Double.NaN, Double.NaN, Double.NaN, o);
        }
        double dObserved = disagreeing / n;
        double dExpected = expectedPairs / (n * (n - 1));
        return new KrippendorffAlpha(units, pairable, dObserved, dExpected, 1 - dObserved / dExpected, o);
    }
}
