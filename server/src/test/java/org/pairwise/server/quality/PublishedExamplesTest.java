package org.pairwise.server.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The agreement statistics against worked examples printed in their sources, to the precision printed there. */
class PublishedExamplesTest {

    /** Half a unit in the last printed (third) decimal. */
    private static final double PRINTED_3 = 5e-4;

    /**
     * Wikipedia, "Fleiss' kappa", section "Worked example": 14 raters put each of 10 subjects into one of 5
     * categories; the article prints p_j = 0.143, 0.200, 0.279, 0.150, 0.229, P_i = 1.000, 0.253, 0.308, 0.440,
     * 0.330, 0.462, 0.242, 0.176, 0.286, 0.286, P̄ = 0.378, P̄_e = 0.213 and κ = 0.210. (Read through two
     * transcriptions of the article: the table with its P_i column in statsmodels' stats/tests/test_inter_rater.py,
     * and the p_j, P̄, P̄_e and κ quoted with the table in a stored agreement-metrics test file that cites the page.)
     */
    static final int[][] WIKIPEDIA_FLEISS = {
            {0, 0, 0, 0, 14}, {0, 2, 6, 4, 2}, {0, 0, 3, 5, 6}, {0, 3, 9, 2, 0}, {2, 2, 8, 1, 1},
            {7, 7, 0, 0, 0}, {3, 2, 6, 3, 0}, {2, 5, 3, 2, 2}, {6, 5, 2, 1, 0}, {0, 2, 2, 3, 7}};

    @Test
    void fleissKappaReproducesTheWikipediaWorkedExample() {
        FleissKappa f = FleissKappa.ofCounts(WIKIPEDIA_FLEISS);
        double[] pj = {0.143, 0.200, 0.279, 0.150, 0.229};
        for (int j = 0; j < pj.length; j++) {
            assertEquals(pj[j], f.categoryShares()[j], PRINTED_3, "p_" + (j + 1));
        }
        double[] pi = {1.000, 0.253, 0.308, 0.440, 0.330, 0.462, 0.242, 0.176, 0.286, 0.286};
        for (int i = 0; i < pi.length; i++) {
            FleissKappa one = FleissKappa.ofCounts(new int[][] {WIKIPEDIA_FLEISS[i]});
            assertEquals(pi[i], one.observed(), PRINTED_3, "P_" + (i + 1));
        }
        assertEquals(0.378, f.observed(), PRINTED_3, "P-bar");
        assertEquals(0.213, f.expected(), PRINTED_3, "P-bar_e");
        assertEquals(0.210, f.kappa(), PRINTED_3, "kappa");
        assertEquals(10, f.items());
        assertEquals(140, f.ratings());
        assertTrue(f.constantRaters());
    }

    @Test
    void fleissKappaFromAnnotationsEqualsTheCountForm() {
        // The same example as votes by named raters: the annotation path must build the same counts.
        List<Annotation> votes = new ArrayList<>();
        for (int i = 0; i < WIKIPEDIA_FLEISS.length; i++) {
            int rater = 0;
            for (int j = 0; j < 5; j++) {
                for (int r = 0; r < WIKIPEDIA_FLEISS[i][j]; r++) {
                    votes.add(new Annotation("subject" + i, "rater" + rater++, "category" + (j + 1)));
                }
            }
        }
        assertEquals(FleissKappa.ofCounts(WIKIPEDIA_FLEISS).kappa(), FleissKappa.of(AnnotationTable.of(votes)).kappa(),
                1e-15);
    }

    /**
     * Fleiss (1971), "Measuring nominal scale agreement among many raters", the diagnoses of 30 patients by 6
     * psychiatrists each into 5 categories: κ = 0.430 in the paper; R's irr::kappam.fleiss prints 0.4302445 for
     * the same data (both as recorded with the data in statsmodels' stats/tests/test_inter_rater.py).
     */
    @Test
    void fleissKappaReproducesFleiss1971Diagnoses() {
        int[][] diagnoses = {
                {4, 4, 4, 4, 4, 4}, {2, 2, 2, 5, 5, 5}, {2, 3, 3, 3, 3, 5}, {5, 5, 5, 5, 5, 5}, {2, 2, 2, 4, 4, 4},
                {1, 1, 3, 3, 3, 3}, {3, 3, 3, 3, 5, 5}, {1, 1, 3, 3, 3, 4}, {1, 1, 4, 4, 4, 4}, {5, 5, 5, 5, 5, 5},
                {1, 4, 4, 4, 4, 4}, {1, 2, 4, 4, 4, 4}, {2, 2, 2, 3, 3, 3}, {1, 4, 4, 4, 4, 4}, {2, 2, 4, 4, 4, 5},
                {3, 3, 3, 3, 3, 5}, {1, 1, 1, 4, 5, 5}, {1, 1, 1, 1, 1, 2}, {2, 2, 4, 4, 4, 4}, {1, 3, 3, 5, 5, 5},
                {5, 5, 5, 5, 5, 5}, {2, 4, 4, 4, 4, 4}, {2, 2, 4, 5, 5, 5}, {1, 1, 4, 4, 4, 4}, {1, 4, 4, 4, 4, 5},
                {2, 2, 2, 2, 2, 4}, {1, 1, 1, 1, 5, 5}, {2, 2, 4, 4, 4, 4}, {1, 3, 3, 3, 3, 3}, {5, 5, 5, 5, 5, 5}};
        List<Annotation> votes = new ArrayList<>();
        for (int p = 0; p < diagnoses.length; p++) {
            for (int r = 0; r < diagnoses[p].length; r++) {
                votes.add(new Annotation("patient" + p, "psychiatrist" + r, Integer.toString(diagnoses[p][r])));
            }
        }
        assertEquals(0.4302445, FleissKappa.of(AnnotationTable.of(votes)).kappa(), 5e-8);
    }

    /**
     * Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", example C (nominal data, any number of
     * observers, missing data): observers A-D code 12 units, '*' missing; the paper prints α = 0.743. The paper
     * itself could not be read here: the data and the printed 0.743 are as quoted from it by the Python
     * `krippendorff` package's doctest (citing the paper's page 8), by a worked tutorial that lists the paper's
     * examples A-D with their printed values (A 0.095, B 0.692, C 0.743), and the same matrix is the "C" data in R's
     * DescTools::KrippAlpha example.
     */
    static final String[] KRIPPENDORFF_2011_C = {
            "1 2 3 3 2 1 4 1 2 * * *",
            "1 2 3 3 2 2 4 1 2 5 * 3",
            "* 3 3 3 2 3 4 2 2 5 1 *",
            "1 2 3 3 2 4 4 1 2 5 1 *"};

    @Test
    void krippendorffAlphaReproducesThe2011NominalExampleWithMissingData() {
        KrippendorffAlpha a = KrippendorffAlpha.of(AnnotationTable.of(observerRows(KRIPPENDORFF_2011_C)));
        assertEquals(0.743, a.alpha(), PRINTED_3);
        // Unit 12 has a single value and is not pairable; the other 11 hold 40 pairable values.
        assertEquals(11, a.pairableUnits());
        assertEquals(40, a.pairableValues());
    }

    /**
     * The 2011 paper's examples A (two observers, binary, α = 0.095) and B (two observers, nominal, α = 0.692), as
     * quoted with their data by the same tutorial.
     */
    @Test
    void krippendorffAlphaReproducesThe2011TwoObserverExamples() {
        String[] a = {"0 1 0 0 0 0 0 0 1 0", "1 1 1 0 0 1 0 0 0 0"};
        assertEquals(0.095, KrippendorffAlpha.of(AnnotationTable.of(observerRows(a))).alpha(), PRINTED_3);
        String[] b = {"a a b b d c c c e d d a", "b a b b b c c c e d d d"};
        assertEquals(0.692, KrippendorffAlpha.of(AnnotationTable.of(observerRows(b))).alpha(), PRINTED_3);
    }

    /**
     * Wikipedia, "Krippendorff's alpha", section "A computational example": 3 coders, 15 units, many values missing;
     * nominal α = 0.691 (the data as in the `krippendorff` package's sample script citing the article, the value as
     * in a README that reproduces the article's example).
     */
    @Test
    void krippendorffAlphaReproducesTheWikipediaComputationalExample() {
        String[] coders = {
                "* * * * * 3 4 1 2 1 1 3 3 * 3",
                "1 * 2 1 3 3 4 3 * * * * * * *",
                "* * 2 1 3 4 4 * 2 1 1 3 3 * 4"};
        assertEquals(0.691, KrippendorffAlpha.of(AnnotationTable.of(observerRows(coders))).alpha(), PRINTED_3);
    }

    /**
     * Wikipedia, "Cohen's kappa", first example: 50 grant proposals, readers A and B; both yes 20, A yes B no 5,
     * A no B yes 10, both no 15: p_o = 0.7, p_e = 0.5, κ = 0.4 (read through a stored code comment that works the
     * article's example).
     */
    @Test
    void cohenKappaReproducesTheWikipediaGrantExample() {
        CohenKappa k = CohenKappa.ofConfusion("A", "B", new int[][] {{20, 5}, {10, 15}});
        assertEquals(0.7, k.observed(), 1e-12);
        assertEquals(0.5, k.expected(), 1e-12);
        assertEquals(0.4, k.kappa(), 1e-12);
        assertEquals(50, k.sharedItems());

        // The same table as 50 labelled items goes through the annotation path to the same result.
        List<Annotation> votes = new ArrayList<>();
        int item = 0;
        int[][] cells = {{20, 5}, {10, 15}};
        String[] yesNo = {"yes", "no"};
        for (int a = 0; a < 2; a++) {
            for (int b = 0; b < 2; b++) {
                for (int r = 0; r < cells[a][b]; r++, item++) {
                    votes.add(new Annotation("proposal" + item, "A", yesNo[a]));
                    votes.add(new Annotation("proposal" + item, "B", yesNo[b]));
                }
            }
        }
        assertEquals(0.4, CohenKappa.of(AnnotationTable.of(votes), "A", "B").kappa(), 1e-12);
    }

    /**
     * A three-category table with SAS's printed simple kappa 0.4842, as statsmodels'
     * stats/tests/test_inter_rater.py records the table and the SAS printout.
     */
    @Test
    void cohenKappaReproducesTheSasThreeCategoryExample() {
        CohenKappa k = CohenKappa.ofConfusion("1", "2", new int[][] {{0, 4, 1}, {0, 8, 0}, {0, 1, 5}});
        assertEquals(0.4842, k.kappa(), 5e-5);
    }

    @Test
    void undefinedCasesAreNaNNotAGuess() {
        // Both annotators say "a" every time: p_e = 1, kappa is 0/0.
        List<Annotation> same = List.of(new Annotation("1", "x", "a"), new Annotation("1", "y", "a"),
                new Annotation("2", "x", "a"), new Annotation("2", "y", "a"));
        AnnotationTable t = AnnotationTable.of(same);
        assertTrue(Double.isNaN(CohenKappa.of(t, "x", "y").kappa()));
        assertTrue(Double.isNaN(FleissKappa.of(t).kappa()));
        assertTrue(Double.isNaN(KrippendorffAlpha.of(t).alpha()));
        // No shared items: nothing to compare.
        AnnotationTable apart = AnnotationTable.of(List.of(new Annotation("1", "x", "a"), new Annotation("2", "y", "b")));
        CohenKappa none = CohenKappa.of(apart, "x", "y");
        assertEquals(0, none.sharedItems());
        assertTrue(Double.isNaN(none.kappa()));
        assertTrue(Double.isNaN(KrippendorffAlpha.of(apart).alpha()));
        assertEquals(0, FleissKappa.of(apart).items());
        assertFalse(CohenKappa.allPairs(apart, 1).iterator().hasNext());
    }

    /** Rows of space-separated values, one row per observer, '*' for missing; units are the columns. */
    static List<Annotation> observerRows(String[] rows) {
        List<Annotation> out = new ArrayList<>();
        for (int o = 0; o < rows.length; o++) {
            String[] values = rows[o].trim().split("\\s+");
            for (int u = 0; u < values.length; u++) {
                if (!values[u].equals("*")) {
                    out.add(new Annotation("unit" + (u + 1), "observer" + o, values[u]));
                }
            }
        }
        return out;
    }
}
