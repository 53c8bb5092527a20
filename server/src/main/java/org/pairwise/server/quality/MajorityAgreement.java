package org.pairwise.server.quality;

import java.util.ArrayList;
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

    /** One entry per annotator who voted on an item with at least two votes, in the table's annotator order. */
    public static List<MajorityAgreement> perAnnotator(AnnotationTable table) {
        Map<String, int[]> tally = new LinkedHashMap<>(); // annotator -> {compared, agreed, tied}
        for (String annotator : table.annotators()) {
            tally.put(annotator, new int[3]);
        }
        Map<String, Integer> counts = new HashMap<>();
        for (Map<String, String> labels : table.items().values()) {
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
                int[] t = tally.get(vote.getKey());
                if (tie) {
                    t[2]++;
                } else {
                    t[0]++;
                    if (best.equals(own)) {
                        t[1]++;
                    }
                }
            }
        }
        List<MajorityAgreement> out = new ArrayList<>();
        tally.forEach((annotator, t) -> {
            if (t[0] + t[2] > 0) {
                out.add(new MajorityAgreement(annotator, t[0], t[1], t[2]));
            }
        });
        return out;
    }
}
