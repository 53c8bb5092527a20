package org.pairwise.server.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.pairwise.server.store.GroupCommitWriter.Tx;

/** {@link AccountStore} on the preference store's writer and read pool. */
final class JdbcAccountStore implements AccountStore {
    private static final String ACCOUNT_COLUMNS =
            "a.id, a.name, a.role, a.status, a.token_hash IS NOT NULL, a.created_at, a.updated_at";

    private final GroupCommitWriter writer;
    private final ReadPool readers;

    JdbcAccountStore(GroupCommitWriter writer, ReadPool readers) {
        this.writer = writer;
        this.readers = readers;
    }

    @Override
    public CompletableFuture<Account> create(String name, String role, String tokenDigest) {
        long now = System.currentTimeMillis();
        return writer.submit(tx -> {
            if (find(tx, "a.name = ?", name) != null) {
                throw new AccountConflict("the name '" + name + "' is taken (names are never reused, not even "
                        + "those of deleted accounts)");
            }
            PreparedStatement ps = tx.prepare("INSERT INTO annotators (name, role, status, token_hash, created_at,"
                    + " updated_at) VALUES (?, ?, 'active', ?, ?, ?)");
            ps.setString(1, name);
            ps.setString(2, role);
            ps.setString(3, tokenDigest);
            ps.setLong(4, now);
            ps.setLong(5, now);
            ps.executeUpdate();
            return find(tx, "a.name = ?", name);
        });
    }

    @Override
    public CompletableFuture<List<Account>> list() {
        return readers.submit(c -> {
            List<Account> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + ACCOUNT_COLUMNS
                    + " FROM annotators a ORDER BY a.id"); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(account(rs));
                }
            }
            return out;
        });
    }

    @Override
    public CompletableFuture<Optional<Account>> byName(String name) {
        return readers.submit(c -> one(c, "SELECT " + ACCOUNT_COLUMNS + " FROM annotators a WHERE a.name = ?", name));
    }

    @Override
    public CompletableFuture<Optional<Account>> setStatus(String name, String status) {
        long now = System.currentTimeMillis();
        return writer.submit(tx -> {
            Account a = find(tx, "a.name = ?", name);
            if (a == null) {
                return Optional.empty();
            }
            if (a.status().equals("deleted") && !status.equals("deleted")) {
                throw new AccountConflict("'" + name + "' is deleted; a deleted account stays deleted (create "
                        + "one under a new name)");
            }
            tx.update("UPDATE annotators SET status = ?, updated_at = ? WHERE id = ?", status, now, a.id());
            if (!status.equals("active")) {
                // In the same transaction: once the status is committed no session of theirs opens anything.
                tx.update("DELETE FROM sessions WHERE annotator_id = ?", a.id());
                tx.update("UPDATE invites SET used_at = ? WHERE annotator_id = ? AND used_at IS NULL", now, a.id());
            }
            if (status.equals("deleted")) {
                tx.update("UPDATE annotators SET token_hash = NULL WHERE id = ?", a.id());
            }
            return Optional.of(find(tx, "a.id = ?", a.id()));
        });
    }

    @Override
    public CompletableFuture<Optional<Account>> setToken(String name, String tokenDigest) {
        long now = System.currentTimeMillis();
        return writer.submit(tx -> {
            Account a = active(tx, name, "enable it first");
            if (a != null) {
                tx.update("UPDATE annotators SET token_hash = ?, updated_at = ? WHERE id = ?", tokenDigest, now,
                        a.id());
            }
            return a == null ? Optional.empty() : Optional.of(find(tx, "a.id = ?", a.id()));
        });
    }

    @Override
    public CompletableFuture<Optional<Account>> addInvite(String name, String codeDigest, long expiresAtMillis) {
        long now = System.currentTimeMillis();
        return writer.submit(tx -> {
            Account a = active(tx, name, "an invite needs an active account");
            if (a != null) {
                tx.update("INSERT INTO invites (code_hash, annotator_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                        codeDigest, a.id(), now, expiresAtMillis);
            }
            return Optional.ofNullable(a);
        });
    }

    @Override
    public CompletableFuture<Redemption> redeemInvite(String codeDigest, String sessionDigest, long sessionExpiresAt) {
        long now = System.currentTimeMillis();
        return writer.submit(tx -> {
            PreparedStatement ps = tx.prepare(
                    "SELECT annotator_id, expires_at, used_at FROM invites WHERE code_hash = ?");
            ps.setString(1, codeDigest);
            long accountId;
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return new Redemption(null, Refusal.UNKNOWN);
                }
                accountId = rs.getLong(1);
                if (rs.getObject(3) != null) {
                    return new Redemption(null, Refusal.USED);
                }
                if (rs.getLong(2) <= now) {
                    return new Redemption(null, Refusal.EXPIRED);
                }
            }
            Account a = find(tx, "a.id = ?", accountId);
            if (!a.active()) {
                return new Redemption(null, Refusal.INACTIVE);
            }
            // "used_at IS NULL" in the update as well: the one-time rule holds in the statement itself.
            if (tx.update("UPDATE invites SET used_at = ? WHERE code_hash = ? AND used_at IS NULL", now,
                    codeDigest) != 1) {
                return new Redemption(null, Refusal.USED);
            }
            openSession(tx, accountId, sessionDigest, now, sessionExpiresAt);
            return new Redemption(a, null);
        });
    }

    @Override
    public CompletableFuture<Redemption> openSessionByToken(String tokenDigest, String sessionDigest,
                                                            long sessionExpiresAt) {
        long now = System.currentTimeMillis();
        return writer.submit(tx -> {
            Account a = find(tx, "a.token_hash = ?", tokenDigest);
            if (a == null) {
                return new Redemption(null, Refusal.UNKNOWN);
            }
            if (!a.active()) {
                return new Redemption(null, Refusal.INACTIVE);
            }
            openSession(tx, a.id(), sessionDigest, now, sessionExpiresAt);
            return new Redemption(a, null);
        });
    }

    private static void openSession(Tx tx, long accountId, String sessionDigest, long now, long expiresAt)
            throws SQLException {
        tx.update("DELETE FROM sessions WHERE expires_at <= ?", now);  // keeps the table to live sessions
        tx.update("INSERT INTO sessions (session_hash, annotator_id, created_at, expires_at, last_seen_at)"
                + " VALUES (?, ?, ?, ?, ?)", sessionDigest, accountId, now, expiresAt, now);
    }

    @Override
    public CompletableFuture<Optional<Session>> session(String sessionDigest) {
        long now = System.currentTimeMillis();
        return readers.submit(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + ACCOUNT_COLUMNS + ", s.expires_at,"
                    + " s.last_seen_at FROM sessions s JOIN annotators a ON a.id = s.annotator_id"
                    + " WHERE s.session_hash = ? AND s.expires_at > ? AND a.status = 'active'")) {
                ps.setString(1, sessionDigest);
                ps.setLong(2, now);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(new Session(account(rs), rs.getLong(8), rs.getLong(9)))
                            : Optional.empty();
                }
            }
        });
    }

    @Override
    public CompletableFuture<Void> touchSession(String sessionDigest) {
        long now = System.currentTimeMillis();
        return writer.submit(tx -> {
            tx.update("UPDATE sessions SET last_seen_at = ? WHERE session_hash = ?", now, sessionDigest);
            return null;
        });
    }

    @Override
    public CompletableFuture<Void> endSession(String sessionDigest) {
        return writer.submit(tx -> {
            tx.update("DELETE FROM sessions WHERE session_hash = ?", sessionDigest);
            return null;
        });
    }

    @Override
    public CompletableFuture<Optional<Account>> byToken(String tokenDigest) {
        return readers.submit(c -> one(c, "SELECT " + ACCOUNT_COLUMNS
                + " FROM annotators a WHERE a.token_hash = ? AND a.status = 'active'", tokenDigest));
    }

    @Override
    public CompletableFuture<Guideline> addGuideline(String format, String body, String createdBy) {
        long now = System.currentTimeMillis();
        return writer.submit(tx -> {
            int version;
            try (ResultSet rs = tx.prepare(currentGuidelineVersionSql).executeQuery()) {
                rs.next();
                version = rs.getInt(1) + 1;  // MAX of no rows is NULL, read as 0
            }
            tx.update("INSERT INTO guidelines (version, format, body, created_at, created_by) VALUES (?, ?, ?, ?, ?)",
                    version, format, body, now, createdBy);
            return new Guideline(version, format, body, now, createdBy);
        });
    }

    @Override
    public CompletableFuture<Optional<Guideline>> currentGuideline() {
        return readers.submit(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT version, format, body, created_at, created_by"
                    + " FROM guidelines ORDER BY version DESC LIMIT 1"); ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new Guideline(rs.getInt(1), rs.getString(2), rs.getString(3),
                        rs.getLong(4), rs.getString(5))) : Optional.empty();
            }
        });
    }

    @Override
    public CompletableFuture<Integer> currentGuidelineVersion() {
        return readers.submit(c -> {
            try (PreparedStatement ps = c.prepareStatement(currentGuidelineVersionSql);
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                int v = rs.getInt(1);
                return rs.wasNull() ? null : v;
            }
        });
    }

    @Override
    public CompletableFuture<Long> votesBy(String annotator) {
        return readers.submit(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM preferences WHERE annotator = ?"
                    + " AND retracted_at IS NULL")) {
                ps.setString(1, annotator);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    /** The account of this name (null when none); {@link AccountConflict} saying {@code why} when not active. */
    private static Account active(Tx tx, String name, String why) throws SQLException {
        Account a = find(tx, "a.name = ?", name);
        if (a != null && !a.active()) {
            throw new AccountConflict("'" + name + "' is " + a.status() + "; " + why);
        }
        return a;
    }

    private static Account find(Tx tx, String where, Object key) throws SQLException {
        PreparedStatement ps = tx.prepare("SELECT " + ACCOUNT_COLUMNS + " FROM annotators a WHERE " + where);
        ps.setObject(1, key);
        try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? account(rs) : null;
        }
    }

    private static Optional<Account> one(Connection c, String sql, String key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(account(rs)) : Optional.empty();
            }
        }
    }

    private static Account account(ResultSet rs) throws SQLException {
        return new Account(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getBoolean(5),
                rs.getLong(6), rs.getLong(7));
    }
}
