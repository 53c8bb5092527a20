package org.pairwise.loadtest;

/** Who a simulated annotator is to the server: a name, and a bearer token when the server runs in token mode. */
record Identity(String name, String bearer) {

    /** From a NAME:TOKEN entry: in token mode the server takes the name from the token. */
    static Identity fromToken(String entry) {
        int colon = entry.indexOf(':');
        return new Identity(entry.substring(0, colon), entry.substring(colon + 1));
    }
}
