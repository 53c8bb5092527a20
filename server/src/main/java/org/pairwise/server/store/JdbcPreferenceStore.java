package org.pairwise.server.store;

import java.io.IOException;
import java.io.Writer;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.pairwise.trainer.data.PreferencePair;

/**
 * The preference store on JDBC, one implementation for both databases: writes go to the {@link GroupCommitWriter}
 * (one thread, one connection, many writes per commit, each acknowledged only after its commit); reads go to a
 * {@link ReadPool} of connections of their own, so a slow stats query never delays a vote. What the two databases
 * say differently is in {@link Dialect}; how each is opened is in {@link SqlitePreferenceStore} (the embedded default:
 * one file) and {@link PostgresPreferenceStore} (a server several nodes share: every rule is a constraint or a row
 * lock in the database, nothing relies on one process's memory).
 */
public abstract sealed class JdbcPreferenceStore implements PreferenceStore
        permits SqlitePreferenceStore, PostgresPreferenceStore {

    /**
     * Most writes in one transaction. Past a few hundred the commit is no longer the cost, and a bound keeps the
     * latency of the first vote in a batch from growing with the queue.
     */
    static final int MAX_BATCH = 512;
    static final int READ_THREADS = 2;

    private final GroupCommitWriter writer;
    private final ReadPool readers;
    private final ReadPool.Connector exports;
    private final Finaliser finaliser = new Finaliser();
    private final JdbcAccountStore accounts;
    private final JdbcQualityStore quality;

    /** exports: where an export opens its own connection (it runs on the caller's thread, for minutes maybe). */
    JdbcPreferenceStore(GroupCommitWriter writer, ReadPool readers, ReadPool.Connector exports) {
        this.writer = writer;
        this.readers = readers;
        this.exports = exports;
        this.accounts = new JdbcAccountStore(writer, readers);
        this.quality = new JdbcQualityStore(writer, readers);
    }

    /** Transactions committed by the writer so far (one fsync each); with {@link #writesCommitted} for metrics. */
    public long transactionsCommitted() {
        return writer.transactions();
    }

    /** Writes handled in committed transactions (one that failed alone was rolled back to its savepoint). */
    public long writesCommitted() {
        return writer.writes();
    }

    @Override
    public CompletableFuture<Long> addPrompt(String source, String text, String messagesJson) {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(text, "text");
        if (messagesJson != null) {
            try {
                TrlExport.checkMessages(messagesJson);
            } catch (IllegalArgumentException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
        return writer.submit(Writes.addPrompt(source, text, messagesJson, System.currentTimeMillis()));
    }

    @Override
    public CompletableFuture<List<PromptRecord>> prompts(int limit) {
        return readers.submit(c -> Queries.prompts(c, limit));
    }

    /** createdAtMillis 0 means "now". */
    @Override
    public CompletableFuture<Void> addPair(PairRecord pair) {
        Objects.requireNonNull(pair.pairId(), "pairId");
        long createdAt = pair.createdAtMillis() > 0 ? pair.createdAtMillis() : System.currentTimeMillis();
        return writer.submit(Writes.addPair(pair, createdAt));
    }

    @Override
    public CompletableFuture<Optional<PairRecord>> pair(String pairId) {
        return readers.submit(c -> Queries.pair(c, pairId));
    }

    @Override
    public CompletableFuture<VoteResult> recordVote(VoteRequest vote) {
        if (vote.pairId() == null || vote.choice() == null) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("a vote needs a pair_id and a choice"));
        }
        return writer.submitBounded(Writes.recordVote(vote, System.currentTimeMillis()));
    }

    @Override
    public CompletableFuture<List<PreferencePair>> trainableVotesAfter(long afterVoteId, int limit) {
        return readers.submit(c -> Queries.trainableVotesAfter(c, afterVoteId, limit));
    }

    @Override
    public CompletableFuture<Void> markTrained(List<Long> voteIds, int policyVersion) {
        List<Long> ids = List.copyOf(voteIds); // the caller may reuse its list before the writer gets to it
        return writer.submit(Writes.markTrained(ids, policyVersion));
    }

    @Override
    public CompletableFuture<StoreStats> stats() {
        return readers.submit(Queries::stats);
    }

    @Override
    public CompletableFuture<List<VoteRecord>> latestVotes(int limit) {
        return readers.submit(c -> Queries.latestVotes(c, limit));
    }

    @Override
    public CompletableFuture<List<VoteRecord>> latestVotesBy(String annotator, int limit) {
        return readers.submit(c -> Queries.latestVotesBy(c, annotator, limit));
    }

    @Override
    public CompletableFuture<Void> recordCheckpoint(TrainerCheckpoint checkpoint) {
        long createdAt = checkpoint.createdAtMillis() > 0 ? checkpoint.createdAtMillis() : System.currentTimeMillis();
        return writer.submit(Writes.recordCheckpoint(checkpoint, createdAt));
    }

    @Override
    public CompletableFuture<Optional<TrainerCheckpoint>> latestCheckpoint() {
        return readers.submit(Queries::latestCheckpoint);
    }

    @Override
    public CompletableFuture<Void> recordPolicyVersion(PolicyVersion version) {
        long at = version.publishedAtMillis() > 0 ? version.publishedAtMillis() : System.currentTimeMillis();
        return writer.submit(Writes.recordPolicyVersion(version, at));
    }

    @Override
    public CompletableFuture<List<PolicyVersion>> policyVersions() {
        return readers.submit(Queries::policyVersions);
    }

    @Override
    public CompletableFuture<List<NamedVote>> namedVotes() {
        return readers.submit(QualityQueries::namedVotes);
    }

    @Override
    public QualityStore quality() {
        return quality;
    }

    @Override
    public CompletableFuture<Void> addBattlePair(PairRecord pair, int votesWanted, int aPolicyVersion,
                                                 int bPolicyVersion) {
        Objects.requireNonNull(pair.pairId(), "pairId");
        if (votesWanted < 1 || aPolicyVersion == bPolicyVersion) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("a battle needs votesWanted >= 1 and "
                    + "two different policy versions"));
        }
        long createdAt = pair.createdAtMillis() > 0 ? pair.createdAtMillis() : System.currentTimeMillis();
        return writer.submit(Battles.add(pair, createdAt, votesWanted, aPolicyVersion, bPolicyVersion));
    }

    @Override
    public CompletableFuture<List<BattleVote>> battleVotes(boolean excludeFlagged) {
        return readers.submit(c -> Battles.votes(c, excludeFlagged));
    }

    @Override
    public CompletableFuture<List<PairRecord>> recentPairs(int policyVersion, int limit) {
        return readers.submit(c -> Battles.recentPairs(c, policyVersion, limit));
    }

    @Override
    public void exportBattles(Writer out) throws IOException {
        RawExport.exportBattles(exports, out);
    }

    @Override
    public AccountStore accounts() {
        return accounts;
    }

    /** Blocking, on the caller's thread with its own read-only connection (an export can run for minutes). */
    @Override
    public void exportTrl(String format, boolean labels, Writer out) throws IOException {
        TrlExport.export(exports, format, labels, out);
    }

    @Override
    public CompletableFuture<Void> addPair(PairRecord pair, int votesWanted) {
        Objects.requireNonNull(pair.pairId(), "pairId");
        if (votesWanted < 1) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("votesWanted must be >= 1"));
        }
        long createdAt = pair.createdAtMillis() > 0 ? pair.createdAtMillis() : System.currentTimeMillis();
        return writer.submit(Writes.addPair(pair, createdAt, votesWanted));
    }

    @Override
    public CompletableFuture<Optional<LeasedPair>> leaseNext(String annotator, String kind, boolean startedOnly,
                                                              long leaseMillis) {
        Objects.requireNonNull(annotator, "annotator");
        return writer.submitBounded(Assignments.leaseNext(annotator, kind, startedOnly, leaseMillis))
                .thenCompose(id -> id.isEmpty() ? CompletableFuture.completedFuture(Optional.empty())
                        : readers.submit(c -> CampaignQueries.leased(c, id.get())));
    }

    @Override
    public CompletableFuture<Boolean> lease(String pairId, String annotator, long leaseMillis) {
        Objects.requireNonNull(annotator, "annotator");
        return writer.submitBounded(Assignments.lease(pairId, annotator, leaseMillis));
    }

    @Override
    public CompletableFuture<UndoResult> undo(long voteId, String annotator, Choice choice, long windowMillis) {
        Objects.requireNonNull(annotator, "annotator");
        return writer.submitBounded(CampaignWrites.undo(voteId, annotator, choice, windowMillis));
    }

    @Override
    public CompletableFuture<SkipResult> skip(String pairId, String annotator, SkipReason reason, String comment) {
        Objects.requireNonNull(reason, "reason");
        return writer.submitBounded(CampaignWrites.skip(pairId, annotator, reason, comment));
    }

    @Override
    public CompletableFuture<Long> flagPair(String pairId, String annotator, String comment) {
        Objects.requireNonNull(comment, "comment");
        return writer.submitBounded(CampaignWrites.flagPair(pairId, annotator, comment));
    }

    @Override
    public CompletableFuture<String> addGoldPair(GoldPair gold, boolean rightOnA) {
        if (gold.messagesJson() != null) {
            try {
                TrlExport.checkMessages(gold.messagesJson());
            } catch (IllegalArgumentException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
        return writer.submit(CampaignWrites.addGold(gold, rightOnA));
    }

    @Override
    public CompletableFuture<Void> setAnnotatorFlag(String annotator, boolean flagged, String reason, String by) {
        Objects.requireNonNull(annotator, "annotator");
        GroupCommitWriter.Work<Void> set = CampaignWrites.setAnnotatorFlag(annotator, flagged, reason, by);
        return writer.submit(tx -> {
            set.run(tx);
            if (!flagged) {
                finaliser.rescan();  // on the writer thread, like every pass
            }
            return null;
        });
    }

    @Override
    public CompletableFuture<List<AnnotatorFlag>> annotatorFlags() {
        return readers.submit(CampaignQueries::annotatorFlags);
    }

    @Override
    public CompletableFuture<Integer> finalise(Finalising settings) {
        return writer.submit(finaliser.pass(settings));
    }

    @Override
    public CompletableFuture<List<TrainingItem>> trainingItemsAfter(long afterItemId, int limit) {
        return readers.submit(c -> CampaignQueries.trainingItemsAfter(c, afterItemId, limit));
    }

    @Override
    public CompletableFuture<Void> markItemsTrained(List<Long> itemIds, int policyVersion) {
        List<Long> ids = List.copyOf(itemIds);
        return writer.submit(CampaignWrites.markItemsTrained(ids, policyVersion));
    }

    @Override
    public CompletableFuture<Integer> markTrainedThrough(long lastItemId, int policyVersion) {
        return writer.submit(CampaignWrites.markTrainedThrough(lastItemId, policyVersion));
    }

    @Override
    public CompletableFuture<ContinuationStart> continuationStart(String pairId, String annotator) {
        Objects.requireNonNull(annotator, "annotator");
        return readers.submit(c -> Conversations.start(c, pairId, annotator));
    }

    @Override
    public CompletableFuture<Boolean> addContinuation(Continuation continuation, PairRecord pair, int votesWanted,
                                                      long leaseMillis) {
        Objects.requireNonNull(continuation.annotator(), "annotator");
        try {
            TrlExport.checkMessages(continuation.messagesJson());
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (votesWanted < 1) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("votesWanted must be >= 1"));
        }
        return writer.submit(Conversations.add(continuation, pair, votesWanted, leaseMillis));
    }

    /** Blocking, on the caller's thread with its own read-only connection. */
    @Override
    public void exportRaw(Writer out) throws IOException {
        RawExport.export(exports, out);
    }

    /**
     * Commits everything already queued (their futures complete normally), then closes every connection: the readers
     * first, then the subclass's maintenance, the writer last (on SQLite the last connection to close checkpoints the
     * WAL into the main file and removes it, and only a read-write connection can).
     */
    @Override
    public void close() {
        readers.close();
        closeMaintenance();
        writer.close();
    }

    /** Stops what runs beside the writer; called after the readers closed and before the writer does. */
    void closeMaintenance() {}

    static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // already failing with the cause that matters
            }
        }
    }
}
