package org.pairwise.server.quality;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.pairwise.server.store.PreferenceStore;
import org.pairwise.server.store.PreferenceStore.NamedVote;

/**
 * The quality report for the votes in the store now. The votes are read on the store's reader threads; the
 * statistics are computed on {@code compute} (a worker pool, never an event loop), so a reader is free again as soon
 * as the rows are read. Labels are the four choices as nominal categories (a, b, tie, both_bad).
 */
public final class QualityService {
    private final PreferenceStore store;
    private final Executor compute;

    public QualityService(PreferenceStore store, Executor compute) {
        this.store = store;
        this.compute = compute;
    }

    /** Completes on a compute thread. minShared: the shared pairs two annotators need for a Cohen's kappa. */
    public CompletableFuture<QualityReport> report(int minShared) {
        return store.namedVotes().thenApplyAsync(votes -> of(votes, minShared), compute);
    }

    /** The votes in any order; sorted by annotator here, so every list in the report is in name order. */
    static QualityReport of(List<NamedVote> votes, int minShared) {
        List<NamedVote> sorted = new ArrayList<>(votes);
        sorted.sort(Comparator.comparing(NamedVote::annotator));
        List<Annotation> labels = new ArrayList<>(votes.size());
        Map<String, List<Long>> byAnnotator = new HashMap<>();
        for (NamedVote v : sorted) {
            labels.add(new Annotation(v.pairId(), v.annotator(), v.choice().wire()));
            byAnnotator.computeIfAbsent(v.annotator(), k -> new ArrayList<>()).add(v.createdAtMillis());
        }
        Map<String, long[]> times = new HashMap<>();
        byAnnotator.forEach((name, t) -> times.put(name, t.stream().mapToLong(Long::longValue).toArray()));
        return QualityReport.of(labels, times, minShared);
    }
}
