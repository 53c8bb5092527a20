package org.pairwise.server.quality;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Each annotator's agreement with the majority, on items with at least two votes. The majority an annotator is
 * compared with is that of the <em>other</em> annotators of the item (leave-one-out): counting their own vote would
 * make every annotator agree with a two-vote majority that includes them. When the others' top label is tied (one
 * other said a, one said b), the item has no majority for that annotator: it is counted in {@code tied} and left out
 * of {@code compared}, so the rate and its Wilson interval are over items with a clear majority only.
 */
public record MajorityAgreement(String annotator, int compared, int agreed, int tied) {

    /** agreed/compared with its 95% Wilson interval; empty when no item had a clear majority of the others. */
    public Optional<Wilson.Proportion> rate() {
        return compared == 0 ? Optional.empty() : Optional.of(Wilson.interval(agreed, compared));
    }

    /** How one vote compares with the majority of the item's other votes. */
    public enum Outcome { AGREED, DISAGREED, TIED }

    /** Tallies one annotator's outcomes. */
    public static MajorityAgreement of(String annotator, Collection<Outcome> outcomes) {
        int compared = 0, agreed = 0, tied = 0;
        for (Outcome o : outcomes) {
            switch (o) {
                case AGREED -> { compared++; agreed++; }
                case DISAGREED -> compared++;
                case TIED -> tied++;
            }
        }
        return new MajorityAgreement(annotator, compared, agreed, tied);
    }

    /** One entry per annotator who voted on an item with at least two votes, in the table's annotator order. */
    public static List<MajorityAgreement> perAnnotator(AnnotationTable table) {
        List<MajorityAgreement> out = new ArrayList<>();
        outcomes(table).forEach((annotator, byItem) -> out.add(of(annotator, byItem.values())));
        return out;
    }

    /**
     * annotator -> item -> outcome of their vote on it, for every vote on an item with at least two votes; annotators
     * in the table's order (those with no such vote left out), items in theirs.
     */
    public static Map<String, Map<String, Outcome>> outcomes(AnnotationTable table) {
        Map<String, Map<String, Outcome>> out = new LinkedHashMap<>();
        for (String annotator : table.annotators()) {
            out.put(annotator, new LinkedHashMap<>());
        }
        Map<String, Integer> counts = new HashMap<>();
        for (Map.Entry<String, Map<String, String>> item : table.items().entrySet()) {
            Map<String, String> labels = item.getValue();
            if (labels.size() < 2) {
                continue;
            }
            counts.clear();
            for (String label : labels.values()) {
                counts.merge(label, 1, Integer::sum);
            }
            for (Map.Entry<String, String> vote : labels.entrySet()) {
                String own = vote.getValue();
                String best = null;
                int bestCount = 0;
                boolean tie = false;
                for (Map.Entry<String, Integer> e : counts.entrySet()) {
                    int others = e.getValue() - (e.getKey().equals(own) ? 1 : 0);
                    if (others > bestCount) {
                        best = e.getKey();
                        bestCount = others;
                        tie = false;
                    } else if (others == bestCount && others > 0) {
                        tie = true;
                    }
                }
                out.get(vote.getKey()).put(item.getKey(), tie ? Outcome.TIED
                        : best.equals(own) ? Outcome.AGREED : Outcome.DISAGREED);
            }
        }
        out.values().removeIf(Map::isEmpty);
        return out;
    }
}
