package org.pairwise.server.store;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.pairwise.server.store.PreferenceStore.SkipReason;

/** {@link QualityStore} on the preference store's writer and read pool. */
final class JdbcQualityStore implements QualityStore {
    private final GroupCommitWriter writer;
    private final ReadPool readers;

    JdbcQualityStore(GroupCommitWriter writer, ReadPool readers) {
        this.writer = writer;
        this.readers = readers;
    }

    @Override
    public CompletableFuture<Map<String, Map<SkipReason, Long>>> skipsByAnnotator() {
        return readers.submit(QualityQueries::skipsByAnnotator);
    }

    @Override
    public CompletableFuture<String> changeMark() {
        return readers.submit(QualityQueries::changeMark);
    }

    @Override
    public CompletableFuture<Boolean> raiseAutoFlag(String annotator, String reason, Long basisChangedAt) {
        Objects.requireNonNull(annotator, "annotator");
        Objects.requireNonNull(reason, "reason");
        return writer.submit(QualityQueries.raiseAutoFlag(annotator, reason, basisChangedAt));
    }

    @Override
    public CompletableFuture<List<PairSummary>> recentPairs(int limit) {
        return readers.submit(c -> QualityQueries.recentPairs(c, limit));
    }

    @Override
    public CompletableFuture<Optional<PairReview>> pairReview(String pairId) {
        Objects.requireNonNull(pairId, "pairId");
        return readers.submit(c -> QualityQueries.pairReview(c, pairId));
    }
}
