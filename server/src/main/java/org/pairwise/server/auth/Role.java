package org.pairwise.server.auth;

/**
 * What a person may do. The route table ({@code http.RouteTable}) says which routes need which; {@code
 * http.Visibility} says how much of other people's data each role reads.
 */
public enum Role {
    /** Everything: the admin routes, voting (as "admin"), every vote and per-annotator count. */
    ADMIN,
    /** Votes, asks for pairs, reads aggregate counts and their own votes. */
    ANNOTATOR,
    /** Reads the dashboard: every vote and per-annotator count; cannot vote or administer. */
    VIEWER;

    public boolean votes() {
        return this != VIEWER;
    }

    /** Reads other people's votes, comments and per-annotator counts (the dashboard's per-annotator data). */
    public boolean readsEveryone() {
        return this != ANNOTATOR;
    }

    /** The role's name on the wire ({@code GET /api/me}). */
    public String wire() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
