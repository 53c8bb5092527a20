package org.pairwise.loadtest;

/**
 * Who a simulated annotator is to the server: a bearer token when the server runs in token mode (or an account's
 * token, which the load test created for it in accounts mode), else an identity
 * cookie of its own ({@code pairwise_annotator}, as a browser keeps one), so each simulated person is one person to
 * the server and votes once per pair. {@code name} is the client's label; the server names the voter itself and says
 * so in each vote's answer.
 */
record Identity(String name, String bearer, String cookie) {
    static final String COOKIE = "pairwise_annotator";

    /** From a NAME:TOKEN entry: in token mode the server takes the name from the token. */
    static Identity fromToken(String entry) {
        int colon = entry.indexOf(':');
        return new Identity(entry.substring(0, colon), entry.substring(colon + 1), null);
    }
}
