package org.pairwise.server.auth;

import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The admin token and the configured NAME:TOKEN entries (annotators and viewers), checked in constant time: every
 * token is compared with every presented one, matched or not, as SHA-256 digests of equal length, so the time taken
 * says nothing about which token was close or how long any is.
 */
public final class ConfiguredTokens implements Credentials {
    /** Annotator and viewer tokens: 16 characters at least (about 95 bits when random alphanumerics). */
    public static final int MIN_LENGTH = 16;
    /** Names the server gives people itself; a configured token may not claim them. */
    public static final String RESERVED_PREFIX = "anon-";

    private record Entry(byte[] digest, Principal principal) {}

    private final List<Entry> entries = new ArrayList<>();

    public ConfiguredTokens(String adminToken, List<String> annotatorTokens, List<String> viewerTokens) {
        Set<String> seen = new HashSet<>();
        add(adminToken, Principal.ADMIN, seen);
        for (String e : annotatorTokens) {
            add(token(e), new Principal(name(e), Role.ANNOTATOR), seen);
        }
        for (String e : viewerTokens) {
            add(token(e), new Principal(name(e), Role.VIEWER), seen);
        }
    }

    /** Why a NAME:TOKEN entry cannot be used, or null when it can. */
    public static String problem(String entry) {
        int colon = entry.indexOf(':');
        if (colon <= 0 || colon == entry.length() - 1) {
            return "entries are NAME:TOKEN, got '" + entry + "'";
        }
        String name = name(entry);
        if (name.equals(Principal.ADMIN.name()) || name.startsWith(RESERVED_PREFIX)) {
            return "the name '" + name + "' is the server's own (admin, or anon-... for anonymous browsers)";
        }
        if (token(entry).length() < MIN_LENGTH) {
            return "the token of '" + name + "' is shorter than " + MIN_LENGTH + " characters";
        }
        return null;
    }

    @Override
    public Principal byBearer(String token) {
        if (token == null) {
            return null;
        }
        byte[] presented = Tokens.sha256(token);
        Principal found = null;
        for (Entry e : entries) {
            if (MessageDigest.isEqual(presented, e.digest) && found == null) {
                found = e.principal;
            }
        }
        return found;
    }

    private void add(String token, Principal p, Set<String> seen) {
        if (!seen.add(token)) {
            throw new IllegalArgumentException("two configured tokens are the same (one of them is " + p.name()
                    + "'s); each person needs their own");
        }
        entries.add(new Entry(Tokens.sha256(token), p));
    }

    private static String name(String entry) {
        return entry.substring(0, entry.indexOf(':'));
    }

    private static String token(String entry) {
        return entry.substring(entry.indexOf(':') + 1);
    }
}
