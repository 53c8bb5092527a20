package org.pairwise.server.auth;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * Open mode's people: each browser holds a random secret in an HttpOnly, SameSite=Strict cookie, and its votes are
 * stored under a name derived from it ({@code anon-} and 16 hex digits of its SHA-256), so one browser votes once per
 * pair, nobody can vote under another browser's name without its cookie, and the name shown on the dashboard does
 * not give the cookie away. The server accepts any well-formed secret, not only those it issued: a script can give
 * each of its simulated people a secret of its own (an issued one would be no harder to guess).
 */
public final class AnonymousIdentity {
    public static final String COOKIE = "pairwise_annotator";
    /** 22 characters of [A-Za-z0-9_-] carry at least 128 bits when random: the length of a base64url UUID. */
    private static final Pattern WELL_FORMED = Pattern.compile("[A-Za-z0-9_-]{22,128}");
    private static final SecureRandom RANDOM = new SecureRandom();
    /** A year: the identity should outlive a browser restart, and a person who wants a new one clears cookies. */
    public static final long MAX_AGE_SECONDS = 365L * 24 * 3600;

    private AnonymousIdentity() {}

    public static boolean wellFormed(String secret) {
        return secret != null && WELL_FORMED.matcher(secret).matches();
    }

    /** A new secret: 128 random bits in hex. */
    public static String newSecret() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** The annotator this secret votes as. */
    public static Principal principal(String secret) {
        String hash = HexFormat.of().formatHex(Tokens.sha256("pairwise annotator " + secret));
        return new Principal(ConfiguredTokens.RESERVED_PREFIX + hash.substring(0, 16), Role.ANNOTATOR);
    }
}
