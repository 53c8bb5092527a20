package org.pairwise.loadtest;

/** What each simulated operation does. */
public enum Workload {
    /** The annotator's loop: fetch a pair, think, vote (the product's traffic). One operation = one vote. */
    ANNOTATE("annotate"),
    /** GET /api/pairs/next alone: the serving path's ceiling. */
    NEXT_PAIR("next-pair"),
    /**
     * POST /api/preferences alone, on a set of pairs fetched first; every vote is a new annotator/pair combination,
     * so each one is a new row committed to the store: the write path's ceiling.
     */
    VOTE("vote"),
    /** GET /api/bench/constant (a server started with bench_route=true): the HTTP framework's own ceiling. */
    CONSTANT("constant");

    private final String spec;

    Workload(String spec) {
        this.spec = spec;
    }

    public String spec() {
        return spec;
    }

    public boolean votes() {
        return this == ANNOTATE || this == VOTE;
    }

    public static Workload parse(String s) {
        for (Workload w : values()) {
            if (w.spec.equals(s)) {
                return w;
            }
        }
        throw new IllegalArgumentException("workload: unknown '" + s + "' (expected annotate, next-pair, vote or "
                + "constant)");
    }
}
