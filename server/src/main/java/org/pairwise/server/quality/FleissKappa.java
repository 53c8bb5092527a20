package org.pairwise.server.quality;

/**
 * Fleiss' kappa (Fleiss 1971) over all annotators: κ = (P̄ − P̄_e) / (1 − P̄_e), with P_i = Σ_j n_ij(n_ij − 1) /
 * (n_i(n_i − 1)) the share of agreeing ordered pairs of ratings on item i, P̄ their mean over items, p_j the share of
 * all ratings in category j and P̄_e = Σ_j p_j².
 *
 * <p>Fleiss defined it for a constant number of ratings per item. Votes per pair vary here (overlap k is a maximum,
 * not a promise), so this uses the direct generalisation: every item with at least two ratings takes part, each with
 * its own n_i in P_i, P̄ is the unweighted mean of the P_i and p_j is pooled over all ratings of those items. With a
 * constant count it is exactly Fleiss' statistic ({@link #constantRaters} says which case a result is). Items with
 * one rating carry no agreement information and are left out. Krippendorff's alpha ({@link KrippendorffAlpha}) is
 * the coefficient designed for missing ratings and weights items by their pairable values; prefer it when counts
 * vary. NaN when no item has two ratings or when every rating is one category (P̄_e = 1).
 */
public record FleissKappa(int items, int ratings, boolean constantRaters, double observed, double expected,
                          double kappa, double[] categoryShares) {

    public static FleissKappa of(AnnotationTable table) {
        return ofCounts(table.countsPerItem(2));
    }

    /** counts[i][j]: how many ratings put item i in category j. Items with fewer than two ratings are skipped. */
    public static FleissKappa ofCounts(int[][] counts) {
        int k = counts.length == 0 ? 0 : counts[0].length;
        long[] perCategory = new long[k];
        long ratings = 0;
        double sumP = 0;
        int items = 0;
        int firstCount = -1;
        boolean constant = true;
        for (int[] row : counts) {
            if (row.length != k) {
                throw new IllegalArgumentException("every item needs a count for each of the " + k + " categories");
            }
            long ni = 0;
            long agreeingPairs = 0;
            for (int x : row) {
                if (x < 0) {
                    throw new IllegalArgumentException("negative count " + x);
                }
                ni += x;
                agreeingPairs += (long) x * (x - 1);
            }
            if (ni < 2) {
                continue;
            }
            if (firstCount < 0) {
                firstCount = (int) ni;
            } else if (ni != firstCount) {
                constant = false;
            }
            for (int j = 0; j < k; j++) {
                perCategory[j] += row[j];
            }
            ratings += ni;
            sumP += agreeingPairs / (double) (ni * (ni - 1));
            items++;
        }
        double[] shares = new double[k];
        if (items == 0) {
            return new FleissKappa(0, 0, true, Double.NaN, Double.NaN, Double.NaN, shares);
        }
        double expected = 0;
        for (int j = 0; j < k; j++) {
            shares[j] = perCategory[j] / (double) ratings;
            expected += shares[j] * shares[j];
        }
        double observed = sumP / items;
        double kappa = expected == 1.0 ? Double.NaN : (observed - expected) / (1 - expected);
        return new FleissKappa(items, (int) ratings, constant, observed, expected, kappa, shares);
    }
}
