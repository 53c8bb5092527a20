package org.pairwise.loadtest;

import java.util.Locale;

/** Where the simulated annotators' identities come from; named in settings by {@link #spec()}. */
public enum AnnotatorSource {
    /** An identity cookie each (open mode), or the configured NAME:TOKEN entries (token mode). */
    COOKIES,
    /** Accounts the load test creates through the admin API, each signing in with its own bearer token. */
    ACCOUNTS;

    public String spec() {
        return name().toLowerCase(Locale.ROOT);
    }
}
