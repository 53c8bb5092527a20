package org.pairwise.loadtest;

/** Where the simulated annotators' identities come from. */
public enum AnnotatorSource {
    /** An identity cookie each (open mode), or the configured NAME:TOKEN entries (token mode). */
    COOKIES("cookies"),
    /** Accounts the load test creates through the admin API, each signing in with its own bearer token. */
    ACCOUNTS("accounts");

    private final String spec;

    AnnotatorSource(String spec) {
        this.spec = spec;
    }

    public String spec() {
        return spec;
    }
}
