package org.pairwise.server.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.pairwise.trainer.data.PreferencePair;

/**
 * The embedded preference store: one SQLite file in WAL mode. Writes go to the {@link GroupCommitWriter} (one thread,
 * one connection, many writes per fsync); reads go to a {@link ReadPool} of read-only connections, so a slow stats
 * query never delays a vote. The file is an ordinary SQLite database: {@code sqlite3 data/pairwise.db} opens it.
 */
public final class SqlitePreferenceStore implements PreferenceStore {

    /**
     * Most writes in one transaction. Past a few hundred the fsync is no longer the cost, and a bound keeps the
     * latency of the first vote in a batch from growing with the queue.
     */
    static final int MAX_BATCH = 512;
    static final int READ_THREADS = 2;

    /**
     * Caps on the files: {@code maxPages} on the database (SQLite's max_page_count, 0: none; past it writes fail as
     * on a full disk) and the size past which the WAL is checkpointed and truncated even under load.
     */
    public record Limits(long maxPages, long walBytes) {
        public static final Limits DEFAULT = new Limits(0, Sqlite.JOURNAL_SIZE_LIMIT);

        public Limits {
            if (maxPages < 0 || walBytes < 1) {
                throw new IllegalArgumentException("maxPages must be >= 0 and walBytes >= 1");
            }
        }
    }

    private final Path file;
    private final GroupCommitWriter writer;
    private final ReadPool readers;
    private final WalCheckpointer checkpointer;
    private final Finaliser finaliser = new Finaliser();
    private final SqliteAccountStore accounts;
    private final SqliteQualityStore quality;

    /** Creates the parent folder and the file if needed, and brings the schema up to date. */
    public SqlitePreferenceStore(Path dbFile, int writeQueueCapacity) {
        this(dbFile, writeQueueCapacity, Limits.DEFAULT);
    }

    /**
     * Like {@link #SqlitePreferenceStore(Path, int)}. On a disk too full to open the file for writing (a start after a
     * clean stop needs room for the WAL's index) the store still opens when the schema is current: reads work, writes
     * fail with {@link StoreUnavailableException} until there is room again, then resume by themselves.
     */
    public SqlitePreferenceStore(Path dbFile, int writeQueueCapacity, Limits limits) {
        this.file = dbFile.toAbsolutePath();
        Sqlite.Writer db = new Sqlite.Writer(file, limits.maxPages());
        Connection conn = null;
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            conn = db.open();
            Migrations.migrate(conn, Migrations.ALL);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the folder for " + file, e);
        } catch (SQLException | RuntimeException e) {
            closeQuietly(conn);
            conn = null;
            if (!(e instanceof SQLException sql && Sqlite.isDiskFull(sql) && schemaIsCurrent())) {
                throw new StoreException("cannot open the preference store " + file + ": " + e.getMessage(), e);
            }
        }
        this.readers = new ReadPool(file, READ_THREADS, "pairwise-store-read-");
        this.writer = new GroupCommitWriter(db, conn, "pairwise-store-writer", writeQueueCapacity, MAX_BATCH);
        this.checkpointer = new WalCheckpointer(file, limits.walBytes(), readers, writer);
        this.accounts = new SqliteAccountStore(writer, readers);
        this.quality = new SqliteQualityStore(writer, readers);
    }

    /** Whether the file (read without writing anything) is at this build's schema: then no migration must run. */
    private boolean schemaIsCurrent() {
        try (Connection c = Sqlite.openReader(file).conn(); Statement st = c.createStatement()) {
            return Migrations.userVersion(st) == Migrations.latestVersion(Migrations.ALL);
        } catch (SQLException e) {
            return false;
        }
    }

    public Path file() {
        return file;
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
        RawExport.exportBattles(file, out);
    }

    @Override
    public AccountStore accounts() {
        return accounts;
    }

    /** Blocking, on the caller's thread with its own read-only connection (an export can run for minutes). */
    @Override
    public void exportTrl(String format, boolean labels, Writer out) throws IOException {
        TrlExport.export(file, format, labels, out);
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
        RawExport.export(file, out);
    }

    /**
     * Commits everything already queued (their futures complete normally), then closes every connection. The writer
     * closes last: the last connection to close checkpoints the WAL into the main file and removes it, and only a
     * read-write connection can.
     */
    @Override
    public void close() {
        readers.close();
        checkpointer.close();
        writer.close();
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // already failing with the cause that matters
            }
        }
    }
}
