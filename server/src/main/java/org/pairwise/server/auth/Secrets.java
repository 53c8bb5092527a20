package org.pairwise.server.auth;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * The secrets accounts hand out (bearer tokens, invite codes, session ids) and the only form in which the store keeps
 * them. Each is 256 random bits from {@link SecureRandom}; the store keeps its SHA-256 hex digest. A plain SHA-256
 * suffices because these are not passwords: a password has little entropy and must be stretched (bcrypt, scrypt,
 * Argon2) so that trying every likely one against a stolen digest is slow, but 2^256 random secrets cannot be tried
 * at any speed, and a stolen database file gives only digests, which open nothing. Lookups go by digest, so the
 * database's index compares digests, never secrets: how long a lookup takes tells an attacker about a digest that
 * they cannot turn back into a secret.
 */
public final class Secrets {
    private static final SecureRandom RANDOM = new SecureRandom();
    /** 64 hex digits: what {@link #newSecret} makes; anything else is refused before a lookup. */
    private static final Pattern WELL_FORMED = Pattern.compile("[0-9a-f]{64}");

    private Secrets() {}

    /** 256 random bits as 64 lower-case hex digits (safe in a URL fragment, a cookie and a header). */
    public static String newSecret() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    public static boolean wellFormed(String secret) {
        return secret != null && WELL_FORMED.matcher(secret).matches();
    }

    /** The stored form of a secret: SHA-256, hex. */
    public static String digest(String secret) {
        return HexFormat.of().formatHex(Tokens.sha256(secret));
    }

    /**
     * A value derived from a secret for another purpose (the session's CSRF token): SHA-256 of purpose and secret, so
     * it gives away neither the secret nor its stored digest.
     */
    public static String derive(String purpose, String secret) {
        return HexFormat.of().formatHex(Tokens.sha256("pairwise " + purpose + " " + secret));
    }

    /** Constant-time equality of two strings (as digests of equal length, so their lengths stay secret too). */
    public static boolean same(String a, String b) {
        if (a == null || b == null) {
            return false;
        }
        return MessageDigest.isEqual(Tokens.sha256(a), Tokens.sha256(b));
    }
}
