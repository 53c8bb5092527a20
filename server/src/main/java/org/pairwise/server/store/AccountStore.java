package org.pairwise.server.store;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Annotator accounts, their invite codes and sessions, and the versioned guidelines, in the preference store's file.
 * Secrets never reach this interface: callers pass SHA-256 digests ({@code auth.Secrets}), the only form stored.
 * Writes go through the store's one writer, reads through its read pool; futures complete on store threads. Rules
 * (a name used once, an invite redeemed once) are constraints and single-transaction checks, so they hold across
 * processes sharing one database.
 */
public interface AccountStore {
    /** Roles and statuses as stored (and on the wire). */
    List<String> ROLES = List.of("admin", "annotator", "viewer");
    List<String> STATUSES = List.of("active", "disabled", "deleted");

    /** An account as listed: never its token or digest, only whether it has a token. */
    record Account(long id, String name, String role, String status, boolean hasToken, long createdAtMillis,
                   long updatedAtMillis) {
        public boolean active() {
            return status.equals("active");
        }
    }

    /** A session found by its digest, with when it was last seen (for a throttled touch). */
    record Session(Account account, long expiresAtMillis, long lastSeenAtMillis) {}

    /** One version of the guidelines; format is "text" or "markdown". */
    record Guideline(int version, String format, String body, long createdAtMillis, String createdBy) {}

    /** Why an invite code or a token opened no session. */
    enum Refusal { UNKNOWN, USED, EXPIRED, INACTIVE }

    /** The outcome of redeeming a code: a session for the account, or why not. */
    record Redemption(Account account, Refusal refusal) {}

    /** The name is taken (by an account in any status: names are never reused), or the change is not allowed. */
    final class AccountConflict extends RuntimeException {
        public AccountConflict(String message) {
            super(message);
        }
    }

    /** Creates an active account; fails with {@link AccountConflict} when the name was ever used. */
    CompletableFuture<Account> create(String name, String role, String tokenDigest);

    CompletableFuture<List<Account>> list();

    CompletableFuture<Optional<Account>> byName(String name);

    /**
     * Sets the status; leaving "active" ends the account's sessions and unused invites in the same transaction.
     * A deleted account stays deleted ({@link AccountConflict}). Empty when there is no such account.
     */
    CompletableFuture<Optional<Account>> setStatus(String name, String status);

    /** Replaces (or with null removes) the account's bearer token digest. Empty when there is no such account. */
    CompletableFuture<Optional<Account>> setToken(String name, String tokenDigest);

    /** Stores an invite for an active account; empty when there is none of that name. */
    CompletableFuture<Optional<Account>> addInvite(String name, String codeDigest, long expiresAtMillis);

    /**
     * Marks the invite used and opens a session, in one transaction: of two redemptions of one code exactly one
     * succeeds.
     */
    CompletableFuture<Redemption> redeemInvite(String codeDigest, String sessionDigest, long sessionExpiresAtMillis);

    /** Opens a session for the active account holding this token digest (signing in with a token). */
    CompletableFuture<Redemption> openSessionByToken(String tokenDigest, String sessionDigest,
                                                     long sessionExpiresAtMillis);

    /** The unexpired session of an active account, by digest. */
    CompletableFuture<Optional<Session>> session(String sessionDigest);

    /** Records that the session was used now. */
    CompletableFuture<Void> touchSession(String sessionDigest);

    CompletableFuture<Void> endSession(String sessionDigest);

    /** The active account holding this token digest. */
    CompletableFuture<Optional<Account>> byToken(String tokenDigest);

    /** Stores the next version of the guidelines (the highest so far + 1, or 1). */
    CompletableFuture<Guideline> addGuideline(String format, String body, String createdBy);

    /** The highest version, if any. */
    CompletableFuture<Optional<Guideline>> currentGuideline();

    /**
     * The version a vote cast now is given under: the highest, or null when there are no guidelines. For a vote
     * path that wants the version inside its own write transaction, {@link #currentGuidelineVersionSql} is the query.
     */
    CompletableFuture<Integer> currentGuidelineVersion();

    /** One row, one column (NULL when none): usable inside any transaction, on SQLite and PostgreSQL alike. */
    String currentGuidelineVersionSql = "SELECT MAX(version) FROM guidelines";

    /** Votes stored under this annotator name (an annotator's own progress). */
    CompletableFuture<Long> votesBy(String annotator);
}
