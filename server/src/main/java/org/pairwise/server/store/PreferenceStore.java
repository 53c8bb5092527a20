package org.pairwise.server.store;

import java.io.Writer;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.pairwise.trainer.data.PreferencePair;

/**
 * The durable preference stream: prompts, pairs, votes and trainer checkpoints in one SQLite file. Writes go through
 * one writer thread with group commit (many votes per transaction); a vote's future completes only after its
 * transaction commits, so an acknowledged vote is on disk. Futures complete on store threads: callers on an event
 * loop hop back to it (Vert.x: {@code Future.fromCompletionStage(f, context)}).
 */
public interface PreferenceStore extends AutoCloseable {

    /** The four answers a person can give. */
    enum Choice {
        A, B, TIE, BOTH_BAD;

        public String wire() {
            return name().toLowerCase();
        }

        public static Choice fromWire(String s) {
            for (Choice c : values()) {
                if (c.wire().equals(s)) {
                    return c;
                }
            }
            throw new IllegalArgumentException("choice must be one of a, b, tie, both_bad; got '" + s + "'");
        }
    }

    /** A prompt; messagesJson is the conversation as JSON, or null for plain text. */
    record PromptRecord(long id, String source, String text, String messagesJson, long createdAtMillis) {}

    /**
     * A generated pair as stored: both responses in the order shown (a = left), which generator sample each side is,
     * the prompt's token ids, each side's token ids and per-token log-probs, the policy version and the sampling
     * settings (JSON).
     */
    record PairRecord(String pairId, long promptId, String promptText, int[] promptIds, String aText, int[] aTokenIds,
                      float[] aLogprobs, String aFinish, String bText, int[] bTokenIds, float[] bLogprobs,
                      String bFinish, boolean aIsFirstSample, int policyVersion, String settingsJson,
                      long createdAtMillis) {}

    /** A vote to record. annotator, idempotencyKey and comment may be null. */
    record VoteRequest(String pairId, Choice choice, String annotator, String idempotencyKey, String comment) {}

    /** A stored vote; trainedAtVersion is the policy version the trainer had when it consumed it, or null. */
    record VoteRecord(long id, String pairId, Choice choice, String annotator, String idempotencyKey, String comment,
                      long createdAtMillis, Integer trainedAtVersion) {}

    /** The outcome of {@link #recordVote}. */
    sealed interface VoteResult {
        /** Newly stored and committed. */
        record Created(VoteRecord vote) implements VoteResult {}

        /** The same vote was already stored (same idempotency key, or same annotator and pair, same choice). */
        record Duplicate(VoteRecord original) implements VoteResult {}

        /** A different vote already holds that idempotency key or that annotator/pair. */
        record Conflict(VoteRecord original) implements VoteResult {}

        record UnknownPair(String pairId) implements VoteResult {}
    }

    /** Thrown (as the future's failure) when the writer's queue is full: the caller answers 429, nothing is lost. */
    final class StoreBusyException extends RuntimeException {
        public StoreBusyException(String message) {
            super(message);
        }
    }

    /**
     * Thrown (as the future's failure) when the database could not take the write: a full disk ({@link #diskFull},
     * HTTP 507) or a lost file or connection (503). Nothing of the write is stored; the store recovers by itself once
     * the cause is gone. The message is for people; the database's own error is the cause.
     */
    final class StoreUnavailableException extends RuntimeException {
        private final boolean diskFull;

        public StoreUnavailableException(String message, boolean diskFull, Throwable cause) {
            super(message, cause);
            this.diskFull = diskFull;
        }

        public boolean diskFull() {
            return diskFull;
        }
    }

    CompletableFuture<Long> addPrompt(String source, String text, String messagesJson);

    CompletableFuture<List<PromptRecord>> prompts(int limit);

    CompletableFuture<Void> addPair(PairRecord pair);

    CompletableFuture<Optional<PairRecord>> pair(String pairId);

    /** Validates against the pair, dedupes, and commits with group commit; fails with StoreBusyException when full. */
    CompletableFuture<VoteResult> recordVote(VoteRequest vote);

    /**
     * A/B votes with id &gt; afterVoteId in id order (ties and both-bad are never returned), at most limit, each as
     * the pair the trainer takes: the vote's id, the pair's prompt, the preferred side's tokens as chosen, and the
     * policy version that sampled the pair.
     */
    CompletableFuture<List<PreferencePair>> trainableVotesAfter(long afterVoteId, int limit);

    /** Records that the trainer consumed these votes at this policy version. */
    CompletableFuture<Void> markTrained(List<Long> voteIds, int policyVersion);

    /** Counts for /api/stats: by choice, by annotator, by policy version of the pair, totals. */
    CompletableFuture<StoreStats> stats();

    record StoreStats(long prompts, long pairs, long votes, java.util.Map<String, Long> byChoice,
                      java.util.Map<String, Long> byAnnotator, java.util.Map<Integer, Long> byPolicyVersion,
                      long untrainedAbVotes, Campaign campaign) {}

    /**
     * A campaign's counts: skips by reason, pairs flagged harmful, pair flags, withdrawn votes, and the trainer's
     * queue (training items, those not trained yet).
     */
    record Campaign(java.util.Map<String, Long> skipsByReason, long pairsFlaggedHarmful, long pairFlags,
                    long withdrawnVotes, long trainingItems, long untrainedItems) {}

    /** The latest votes with their pairs, newest first (dashboard). */
    CompletableFuture<List<VoteRecord>> latestVotes(int limit);

    /** The latest votes of one annotator, newest first (an annotator's own view of the dashboard). */
    CompletableFuture<List<VoteRecord>> latestVotesBy(String annotator, int limit);

    /**
     * A trainer checkpoint: the optimizer step, the policy version it published, the id of the last vote trained on
     * (a restart resumes with {@link #trainableVotesAfter} from it) and where the adapter and optimizer files are.
     */
    record TrainerCheckpoint(long step, int policyVersion, long lastVoteId, String path, long createdAtMillis) {}

    /** Records a checkpoint durably (completes after its commit). */
    CompletableFuture<Void> recordCheckpoint(TrainerCheckpoint checkpoint);

    /** The most recently recorded checkpoint, if any. */
    CompletableFuture<Optional<TrainerCheckpoint>> latestCheckpoint();

    /**
     * A published policy version: its number, the optimizer step that made it, where its adapter directory was
     * written (on the publishing node) and when. Every node reads the same list from a shared store.
     */
    record PolicyVersion(int version, long step, String path, long publishedAtMillis) {}

    /**
     * Records a published version durably (completes after its commit). A version is published once: recording the
     * same number again keeps the first record.
     */
    CompletableFuture<Void> recordPolicyVersion(PolicyVersion version);

    /** Every recorded version, oldest first. */
    CompletableFuture<List<PolicyVersion>> policyVersions();

    /**
     * Streams every A/B vote as TRL JSONL to out ("standard": prompt/chosen/rejected strings; "conversational":
     * message lists), reading the table in chunks: never the whole table in memory. Blocking: call on a worker.
     */
    default void exportVotes(String format, Writer out) throws java.io.IOException {
        exportTrl(format, false, out);
    }

    /** As {@link #exportVotes}, or with labels true the training labels aggregation decided (training_items). */
    void exportTrl(String format, boolean labels, Writer out) throws java.io.IOException;

    // ---- a preference campaign: assignment, undo, skips, flags, gold, the trainer's queue ----

    /** Stores a pair generated for people to judge, wanted from k different annotators (votes_per_pair). */
    CompletableFuture<Void> addPair(PairRecord pair, int votesWanted);

    /** A pair leased to one annotator, as stored, with its prompt; kind is policy, gold or battle. */
    record LeasedPair(PairRecord pair, PromptRecord prompt, String kind) {}

    /**
     * Leases a pair of this kind the annotator was never handed, the one closest to its k votes first; with
     * {@code startedOnly}, only pairs someone was handed already. Empty when there is none.
     */
    CompletableFuture<Optional<LeasedPair>> leaseNext(String annotator, String kind, boolean startedOnly,
                                                       long leaseMillis);

    /** Leases this pair to this annotator; false when its k slots are taken or they were handed it before. */
    CompletableFuture<Boolean> lease(String pairId, String annotator, long leaseMillis);

    /** The outcome of {@link #undo}: vote is the stored vote (after a change, with its new choice), or null. */
    record UndoResult(Outcome outcome, VoteRecord vote) {
        public enum Outcome { CHANGED, WITHDRAWN, NOT_FOUND, ALREADY_WITHDRAWN, WINDOW_CLOSED }
    }

    /** Changes (choice non-null) or withdraws (null) one's own vote within the undo window; withdrawn rows stay. */
    CompletableFuture<UndoResult> undo(long voteId, String annotator, Choice choice, long windowMillis);

    /** Why a person skipped a pair. */
    enum SkipReason {
        CANT_JUDGE, HARMFUL, PROMPT_UNCLEAR;

        public String wire() {
            return name().toLowerCase();
        }

        public static SkipReason fromWire(String s) {
            for (SkipReason r : values()) {
                if (r.wire().equals(s)) {
                    return r;
                }
            }
            throw new IllegalArgumentException("reason must be one of cant_judge, harmful, prompt_unclear; got '"
                    + s + "'");
        }
    }

    enum SkipResult { SKIPPED, DUPLICATE, ALREADY_VOTED, UNKNOWN_PAIR }

    /** Records a skip (never trained on); "harmful" flags the pair: it is neither served nor trained on again. */
    CompletableFuture<SkipResult> skip(String pairId, String annotator, SkipReason reason, String comment);

    /** A comment/flag on a pair for the admin; the flag's id, or -1 for an unknown pair. */
    CompletableFuture<Long> flagPair(String pairId, String annotator, String comment);

    /** A gold pair to upload: the prompt (messagesJson null for plain text), the right and the wrong response. */
    record GoldPair(String promptText, String messagesJson, String right, String wrong) {}

    /** Stores a gold pair with the right response on side A when rightOnA; returns its pair id. */
    CompletableFuture<String> addGoldPair(GoldPair gold, boolean rightOnA);

    /** An annotator's quality-control flag. */
    record AnnotatorFlag(String annotator, boolean flagged, String reason, long changedAtMillis, String changedBy) {}

    /** Flags or un-flags an annotator; un-flagging makes their votes not yet finalised count again. */
    CompletableFuture<Void> setAnnotatorFlag(String annotator, boolean flagged, String reason, String by);

    CompletableFuture<List<AnnotatorFlag>> annotatorFlags();

    /** How votes become training items. */
    enum Aggregation {
        EACH, MAJORITY, SOFT;

        public String wire() {
            return name().toLowerCase();
        }
    }

    /**
     * The finaliser's settings: aggregation, undo_window, whether flagged annotators' votes are left out, and whether
     * battle votes become training items (train_on_battles; off-policy pairs then).
     */
    record Finalising(Aggregation aggregation, long undoWindowMillis, boolean excludeFlagged, boolean trainOnBattles) {
        public Finalising(Aggregation aggregation, long undoWindowMillis, boolean excludeFlagged) {
            this(aggregation, undoWindowMillis, excludeFlagged, false);
        }
    }

    /** Writes the training items whose labels are final now; returns how many. */
    CompletableFuture<Integer> finalise(Finalising settings);

    /**
     * An entry of the trainer's queue: its id (the trainer's checkpointed position) and the pair to train on, whose
     * id is the vote's for a per-vote item and the item's own for an aggregated one.
     */
    record TrainingItem(long id, PreferencePair pair) {}

    /** Training items with id &gt; afterItemId in id order, at most limit. */
    CompletableFuture<List<TrainingItem>> trainingItemsAfter(long afterItemId, int limit);

    /** Records that the trainer consumed these items (and so their votes) at this policy version. */
    CompletableFuture<Void> markItemsTrained(List<Long> itemIds, int policyVersion);

    /**
     * Marks every item up to lastItemId not marked yet (a resumed trainer's lineage trained them; the marks of its
     * last step may have died with the process that took it); completes with how many it marked.
     */
    CompletableFuture<Integer> markTrainedThrough(long lastItemId, int policyVersion);

    /**
     * Streams every vote (withdrawn ones too), skip and pair flag as JSONL ({@code type}: vote, skip, pair_flag),
     * in chunks. Blocking: call on a worker.
     */
    void exportRaw(Writer out) throws java.io.IOException;
    /**
     * A vote by a named annotator, as the quality statistics read it: who, on which pair, what, when; when they were
     * handed the pair (null without a lease) and, on a gold pair, its right side (a or b; null on other pairs).
     */
    record NamedVote(String pairId, String annotator, Choice choice, long createdAtMillis, Long leasedAtMillis,
                     String goldChoice) {}

    /**
     * Every counted vote of a named annotator (anonymous legacy votes have no one to attribute them to), in no
     * particular order: the input of {@code quality.QualityService}. One annotator votes at most once per pair.
     */
    CompletableFuture<List<NamedVote>> namedVotes();

    /** Quality control's reads and its automatic flag, in the same database. */
    QualityStore quality();

    // ---- multi-turn: continuing the conversation of a voted pair ----

    /**
     * Where a continuation of a pair starts, for one annotator: OK with the pair's prompt, their vote (A or B) and the
     * text of the side they preferred; NOT_VOTED when they have no live vote on it; NO_PREFERENCE (prompt and choice
     * set) when they voted tie or both-bad, so no response can become the assistant's turn.
     */
    record ContinuationStart(Outcome outcome, PromptRecord prompt, String chosenText, Choice choice) {
        public enum Outcome { OK, UNKNOWN_PAIR, NOT_VOTED, NO_PREFERENCE }
    }

    CompletableFuture<ContinuationStart> continuationStart(String pairId, String annotator);

    /**
     * A continued conversation to store: the pair continued from, who continued it and the vote they continued
     * from, and the whole conversation (the new prompt: its display text and its messages as JSON, ending in the
     * annotator's next user message).
     */
    record Continuation(String parentPairId, String annotator, Choice choice, String promptText,
                        String messagesJson) {}

    /**
     * Stores the conversation as a new prompt and the pair generated from it (its promptId ignored) with the parent,
     * wanted by votesWanted annotators, leased first to the one who continued; all in one transaction. False, and
     * nothing stored, when that person's vote on the parent is no longer the vote continued from.
     */
    CompletableFuture<Boolean> addContinuation(Continuation continuation, PairRecord pair, int votesWanted,
                                               long leaseMillis);

    // ---- battles between policy versions (issue 12) ----

    /**
     * Stores a battle: side A sampled by policy version aPolicyVersion, side B by bPolicyVersion (different), wanted
     * from k annotators like any pair; the record's policyVersion is the version served when it was made.
     */
    CompletableFuture<Void> addBattlePair(PairRecord pair, int votesWanted, int aPolicyVersion, int bPolicyVersion);

    /** A counted vote on a battle: the versions on the sides shown as A and B, and the choice. */
    record BattleVote(String pairId, int aPolicyVersion, int bPolicyVersion, Choice choice, String annotator,
                      long createdAtMillis) {}

    /** Live votes on battles in vote order; flagged annotators' left out when excludeFlagged. */
    CompletableFuture<List<BattleVote>> battleVotes(boolean excludeFlagged);

    /** The newest policy pairs sampled by this version, newest first, at most limit (the KL guard's samples). */
    CompletableFuture<List<PairRecord>> recentPairs(int policyVersion, int limit);

    /** Streams every vote on a battle (withdrawn ones too) as JSONL with both versions. Blocking: on a worker. */
    void exportBattles(Writer out) throws java.io.IOException;

    /** Annotator accounts, invites, sessions and guidelines, in the same database. */
    AccountStore accounts();

    @Override
    void close();
}
