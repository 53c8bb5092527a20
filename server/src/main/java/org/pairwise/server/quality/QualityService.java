package org.pairwise.server.quality;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.pairwise.server.store.PreferenceStore;
import org.pairwise.server.store.PreferenceStore.AnnotatorFlag;
import org.pairwise.server.store.PreferenceStore.NamedVote;
import org.pairwise.server.store.PreferenceStore.SkipReason;

/**
 * The quality report for the votes in the store now. The votes, skips and flags are read on the store's reader
 * threads; the statistics are computed on {@code compute} (a worker pool, never an event loop), so a reader is free
 * again as soon as the rows are read. Labels are the four choices as nominal categories (a, b, tie, both_bad).
 */
public final class QualityService {
    private final PreferenceStore store;
    private final Executor compute;
    private final FlagRule rule;

    public QualityService(PreferenceStore store, Executor compute) {
        this(store, compute, FlagRule.OFF);
    }

    /** rule: the automatic flags' thresholds, reported with the figures. */
    public QualityService(PreferenceStore store, Executor compute, FlagRule rule) {
        this.store = store;
        this.compute = compute;
        this.rule = rule;
    }

    /** Completes on a compute thread. minShared: the shared pairs two annotators need for a Cohen's kappa. */
    public CompletableFuture<QualityReport> report(int minShared) {
        CompletableFuture<List<NamedVote>> votes = store.namedVotes();
        CompletableFuture<Map<String, Map<SkipReason, Long>>> skips = store.quality().skipsByAnnotator();
        CompletableFuture<List<AnnotatorFlag>> flags = store.annotatorFlags();
        return CompletableFuture.allOf(votes, skips, flags).thenApplyAsync(v -> of(votes.join(), minShared,
                skips.join(), flags.join(), rule), compute);
    }

    /** The votes in any order; sorted by annotator here, so every list in the report is in name order. */
    static QualityReport of(List<NamedVote> votes, int minShared) {
        return of(votes, minShared, Map.of(), List.of(), FlagRule.OFF);
    }

    static QualityReport of(List<NamedVote> votes, int minShared, Map<String, Map<SkipReason, Long>> skips,
                            List<AnnotatorFlag> flags, FlagRule rule) {
        List<NamedVote> sorted = new ArrayList<>(votes);
        sorted.sort(Comparator.comparing(NamedVote::annotator));
        List<Annotation> labels = new ArrayList<>(votes.size());
        Map<String, List<Long>> byAnnotator = new HashMap<>();
        Map<String, List<Long>> leases = new HashMap<>();
        List<GoldAccuracy.GoldVote> gold = new ArrayList<>();
        for (NamedVote v : sorted) {
            labels.add(new Annotation(v.pairId(), v.annotator(), v.choice().wire()));
            byAnnotator.computeIfAbsent(v.annotator(), k -> new ArrayList<>()).add(v.createdAtMillis());
            if (v.leasedAtMillis() != null) {
                leases.computeIfAbsent(v.annotator(), k -> new ArrayList<>())
                        .add(v.createdAtMillis() - v.leasedAtMillis());
            }
            if (v.goldChoice() != null) {
                gold.add(new GoldAccuracy.GoldVote(v.annotator(), v.choice().wire(), v.goldChoice()));
            }
        }
        Map<String, AnnotatorFlag> flagOf = new HashMap<>();
        flags.forEach(f -> flagOf.put(f.annotator(), f));
        return QualityReport.of(labels, arrays(byAnnotator), minShared,
                new QualityReport.Extras(gold, arrays(leases), skips, flagOf, rule));
    }

    private static Map<String, long[]> arrays(Map<String, List<Long>> lists) {
        Map<String, long[]> out = new HashMap<>();
        lists.forEach((name, t) -> out.put(name, t.stream().mapToLong(Long::longValue).toArray()));
        return out;
    }
}
