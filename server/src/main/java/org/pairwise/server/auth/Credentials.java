package org.pairwise.server.auth;

/**
 * Where bearer tokens are checked. Today {@link ConfiguredTokens} (the admin token and the NAME:TOKEN lists of the
 * config); accounts with hashed tokens and session cookies are another source behind the same question.
 */
public interface Credentials {
    /** The principal this bearer token stands for, or null when it stands for nobody. */
    Principal byBearer(String token);
}
