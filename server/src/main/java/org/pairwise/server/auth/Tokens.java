package org.pairwise.server.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Bearer tokens: read from the Authorization header, and digested for {@link ConfiguredTokens}'s constant-time
 * comparison.
 */
public final class Tokens {
    private Tokens() {}

    /** The token of an {@code Authorization: Bearer TOKEN} header, or null when the header is absent or not Bearer. */
    public static String bearer(String authorization) {
        if (authorization == null) {
            return null;
        }
        String a = authorization.strip();
        if (a.length() < 7 || !a.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        return a.substring(7).strip();
    }

    /**
     * Tokens are compared as these digests: MessageDigest.isEqual is constant-time only for equal lengths, and a
     * token's length is a secret too.
     */
    static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }
}
