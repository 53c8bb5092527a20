package org.pairwise.server.quality;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Each annotator's accuracy on gold pairs (pairs with a known answer), with its 95% Wilson interval. A gold pair's
 * answer is a side (a or b); a vote of tie or both_bad on it is not the answer, so it counts as a miss: a careful
 * annotator who cannot tell the sides apart on a pair built to be clear-cut is what gold pairs are there to find.
 */
public record GoldAccuracy(String annotator, int answered, int correct) {

    /** One vote on a gold pair: the voter's choice and the pair's known answer (both as wire strings). */
    public record GoldVote(String annotator, String choice, String goldChoice) {}

    /** correct/answered with its interval; empty when the annotator answered no gold pair. */
    public Optional<Wilson.Proportion> rate() {
        return answered == 0 ? Optional.empty() : Optional.of(Wilson.interval(correct, answered));
    }

    /** One entry per annotator with a gold vote, in name order. */
    public static List<GoldAccuracy> perAnnotator(List<GoldVote> votes) {
        Map<String, int[]> tally = new TreeMap<>(); // annotator -> {answered, correct}
        for (GoldVote v : votes) {
            if (!v.goldChoice().equals("a") && !v.goldChoice().equals("b")) {
                throw new IllegalArgumentException("a gold pair's answer is a or b, got '" + v.goldChoice() + "'");
            }
            int[] t = tally.computeIfAbsent(v.annotator(), k -> new int[2]);
            t[0]++;
            if (v.choice().equals(v.goldChoice())) {
                t[1]++;
            }
        }
        List<GoldAccuracy> out = new ArrayList<>();
        tally.forEach((name, t) -> out.add(new GoldAccuracy(name, t[0], t[1])));
        return out;
    }
}
