package org.pairwise.server.quality;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.pairwise.server.store.PreferenceStore.AnnotatorFlag;
import org.pairwise.server.store.PreferenceStore.SkipReason;

/**
 * Annotation quality over a set of votes: each annotator's pace and agreement with the majority, Cohen's kappa for
 * every pair of annotators sharing at least minShared items, and Fleiss' kappa and Krippendorff's alpha (nominal)
 * over all items with two or more labels (itemsWithTwoOrMore). Annotators are in name order. With {@link Extras}:
 * their gold accuracy, lease-to-vote times, skips and flags, and the rule the automatic flags follow.
 */
public record QualityReport(int votes, int items, int itemsWithTwoOrMore, List<AnnotatorStats> annotators,
                            int minShared, List<CohenKappa> pairwise, FleissKappa fleiss, KrippendorffAlpha alpha,
                            FlagRule flagRule) {

    /**
     * The per-annotator inputs beyond the labels: gold votes, lease-to-vote times in ms, skip counts by reason,
     * flags by annotator, and the automatic flags' rule.
     */
    public record Extras(List<GoldAccuracy.GoldVote> gold, Map<String, long[]> leaseToVoteMillis,
                         Map<String, Map<SkipReason, Long>> skips, Map<String, AnnotatorFlag> flags, FlagRule rule) {
        public static final Extras NONE = new Extras(List.of(), Map.of(), Map.of(), Map.of(), FlagRule.OFF);
    }

    /**
     * labels: one per vote (item = pair, label = choice); timesMillis: each annotator's vote times (the same votes),
     * for their pace. Every annotator with a label needs times.
     */
    public static QualityReport of(Collection<Annotation> labels, Map<String, long[]> timesMillis, int minShared) {
        return of(labels, timesMillis, minShared, Extras.NONE);
    }

    public static QualityReport of(Collection<Annotation> labels, Map<String, long[]> timesMillis, int minShared,
                                   Extras extras) {
        if (minShared < 1) {
            throw new IllegalArgumentException("minShared must be at least 1, got " + minShared);
        }
        AnnotationTable table = AnnotationTable.of(labels);
        Map<String, MajorityAgreement> agreement = MajorityAgreement.perAnnotator(table).stream()
                .collect(Collectors.toMap(MajorityAgreement::annotator, Function.identity()));
        Map<String, GoldAccuracy> gold = GoldAccuracy.perAnnotator(extras.gold()).stream()
                .collect(Collectors.toMap(GoldAccuracy::annotator, Function.identity()));
        List<AnnotatorStats> annotators = new ArrayList<>();
        for (String name : new TreeMap<>(timesMillis).keySet()) {
            long[] leases = extras.leaseToVoteMillis().get(name);
            annotators.add(new AnnotatorStats(name, Pace.of(name, timesMillis.get(name)),
                    agreement.getOrDefault(name, new MajorityAgreement(name, 0, 0, 0)),
                    leases == null ? LeaseToVote.NONE : LeaseToVote.of(leases),
                    gold.getOrDefault(name, new GoldAccuracy(name, 0, 0)),
                    extras.skips().getOrDefault(name, Map.of()), extras.flags().get(name)));
        }
        for (String name : table.annotators()) {
            if (!timesMillis.containsKey(name)) {
                throw new IllegalArgumentException("no vote times for annotator '" + name + "'");
            }
        }
        int shared = (int) table.items().values().stream().filter(l -> l.size() >= 2).count();
        return new QualityReport(labels.size(), table.items().size(), shared, List.copyOf(annotators), minShared,
                CohenKappa.allPairs(table, minShared), FleissKappa.of(table), KrippendorffAlpha.of(table),
                extras.rule());
    }
}
