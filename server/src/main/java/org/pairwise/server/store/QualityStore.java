package org.pairwise.server.store;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.PreferenceStore.SkipReason;

/**
 * The reads behind quality control (skips per annotator, one pair with everything said about it, a cheap mark of
 * change) and its one write, the automatic flag. Reads run on the store's read pool, the flag on its writer; futures
 * complete on store threads.
 */
public interface QualityStore {
    /** changed_by of a flag the thresholds raised; any other value is the name of the person who set it. */
    String AUTO = "auto";

    /** How many pairs each annotator skipped for each reason: annotator -> reason -> count, in name order. */
    CompletableFuture<Map<String, Map<SkipReason, Long>>> skipsByAnnotator();

    /**
     * Changes whenever a vote is cast, changed or withdrawn or a flag is set, and is equal otherwise: a periodic
     * check skips its work while it stays the same.
     */
    CompletableFuture<String> changeMark();

    /**
     * Flags the annotator automatically (changed_by {@value #AUTO}) unless their flag row changed since the check
     * read it: basisChangedAt is the row's changed_at then, or null when there was no row. Checked inside the write's
     * transaction, so an admin's decision taken meanwhile is never overwritten. True when the flag was written.
     */
    CompletableFuture<Boolean> raiseAutoFlag(String annotator, String reason, Long basisChangedAt);

    /** A pair as the review list shows it: counts of what was said about it, newest first. */
    record PairSummary(String pairId, String kind, String promptText, long createdAtMillis, int votesWanted,
                       int votes, int withdrawn, int skips, int notes, boolean flaggedHarmful,
                       String aggregateOutcome) {}

    /** Pairs someone voted on, skipped or commented on, newest first. */
    CompletableFuture<List<PairSummary>> recentPairs(int limit);

    /** One vote on a pair, withdrawn ones too (retractedAtMillis set). */
    record PairVote(long id, String annotator, Choice choice, String comment, long createdAtMillis,
                    Long changedAtMillis, Long retractedAtMillis, Integer guidelineVersion, Long leasedAtMillis,
                    Integer trainedAtVersion) {}

    record PairSkip(String annotator, SkipReason reason, String comment, long createdAtMillis) {}

    /** A comment/flag on the pair (pair_flags). */
    record PairNote(String annotator, String comment, long createdAtMillis) {}

    /** A training item made from the pair: per vote (voteId set) or the pair's aggregated label. */
    record PairItem(long id, Long voteId, String chosen, Double labelSmoothing, int votes, Integer trainedAtVersion) {}

    /** Everything stored about one pair: its sides, votes, skips, comments and what the trainer got from it. */
    record PairReview(PairSummary summary, String aText, String bText, int policyVersion, String goldChoice,
                      Long aggregatedAtMillis, List<PairVote> votes, List<PairSkip> skips, List<PairNote> notes,
                      List<PairItem> trainingItems) {}

    CompletableFuture<Optional<PairReview>> pairReview(String pairId);
}
