package org.pairwise.server.quality;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Annotations indexed by item, then annotator: the shape every agreement statistic reads. Items and annotators keep
 * the order in which they first appear; categories are sorted, so results do not depend on input order.
 */
public final class AnnotationTable {
    private final Map<String, Map<String, String>> byItem;
    private final Set<String> annotators;
    private final List<String> categories;

    private AnnotationTable(Map<String, Map<String, String>> byItem, Set<String> annotators, List<String> categories) {
        this.byItem = byItem;
        this.annotators = annotators;
        this.categories = categories;
    }

    /** Each annotator labels an item at most once; a second label for the same (item, annotator) is an error. */
    public static AnnotationTable of(Collection<Annotation> annotations) {
        Map<String, Map<String, String>> byItem = new LinkedHashMap<>();
        Set<String> annotators = new java.util.LinkedHashSet<>();
        TreeSet<String> categories = new TreeSet<>();
        for (Annotation a : annotations) {
            String previous = byItem.computeIfAbsent(a.item(), k -> new LinkedHashMap<>()).put(a.annotator(), a.label());
            if (previous != null) {
                throw new IllegalArgumentException("annotator '" + a.annotator() + "' labels item '" + a.item()
                        + "' twice (" + previous + ", " + a.label() + ")");
            }
            annotators.add(a.annotator());
            categories.add(a.label());
        }
        byItem.replaceAll((item, labels) -> Collections.unmodifiableMap(labels));
        return new AnnotationTable(Collections.unmodifiableMap(byItem), Collections.unmodifiableSet(annotators),
                List.copyOf(categories));
    }

    /** item -> (annotator -> label). */
    public Map<String, Map<String, String>> items() {
        return byItem;
    }

    public Set<String> annotators() {
        return annotators;
    }

    /** Every label used, sorted. */
    public List<String> categories() {
        return categories;
    }

    /**
     * The items-by-categories count matrix (n_ij: how many annotators put item i in category j) over the items with
     * at least minRatings labels, in item order: the input of Fleiss' kappa and of Krippendorff's alpha.
     */
    public int[][] countsPerItem(int minRatings) {
        List<int[]> rows = new ArrayList<>();
        for (Map<String, String> labels : byItem.values()) {
            if (labels.size() < minRatings) {
                continue;
            }
            int[] row = new int[categories.size()];
            for (String label : labels.values()) {
                row[Collections.binarySearch(categories, label)]++;
            }
            rows.add(row);
        }
        return rows.toArray(new int[0][]);
    }
}
