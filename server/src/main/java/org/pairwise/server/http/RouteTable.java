package org.pairwise.server.http;

import io.vertx.core.http.HttpMethod;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Every API route, who may call it and what body it takes, in one place. {@link HttpVerticle} binds a handler to
 * each row and to nothing else, so a route cannot exist without an entry here. The pages and static files (GET and
 * HEAD on everything else) are public; other methods on them get 405.
 *
 * <p>Who reads how much of other people's data on the {@link Access#PARTICIPANT} routes is {@link Visibility}'s
 * business: an annotator sees their own votes and the aggregate counts, a viewer or the admin every vote.
 */
final class RouteTable {
    private RouteTable() {}

    enum Access {
        /** Anyone, without credentials. */
        PUBLIC,
        /**
         * Anyone the server knows: an annotator (in open mode every browser is one, anonymous, by its cookie), a
         * viewer or the admin. In token mode that takes a token.
         */
        PARTICIPANT,
        /** Annotators and the admin: people who vote. A viewer gets 403. */
        VOTER,
        /** Viewers and the admin: everyone's per-annotator figures. An annotator gets 403. */
        READER,
        /** The admin token only. */
        ADMIN
    }

    /** What a request may carry: anything else is 415 (before the body is read). */
    enum Body {
        /** No body; an empty one, or one declared application/json, is tolerated. */
        NONE,
        /** application/json (charset utf-8, if one is named). */
        JSON,
        /**
         * A prompt file: application/json, JSONL, text/plain, multipart/form-data with a boundary, or no type (the
         * raw file). The route takes the admin token, which no other site's page can send.
         */
        UPLOAD
    }

    record Route(HttpMethod method, String path, Access access, Body body) {}

    static final List<Route> ROUTES = List.of(
            new Route(HttpMethod.GET, "/api/me", Access.PARTICIPANT, Body.NONE),
            new Route(HttpMethod.GET, "/api/pairs/next", Access.VOTER, Body.NONE),
            new Route(HttpMethod.POST, "/api/pairs", Access.VOTER, Body.JSON),
            // Multi-turn: the next turn of a pair the caller voted A or B on (PairsApi.continueConversation).
            new Route(HttpMethod.POST, "/api/pairs/continue", Access.VOTER, Body.JSON),
            new Route(HttpMethod.POST, "/api/preferences", Access.VOTER, Body.JSON),
            new Route(HttpMethod.GET, "/api/votes/latest", Access.PARTICIPANT, Body.NONE),
            new Route(HttpMethod.GET, "/api/stats", Access.PARTICIPANT, Body.NONE),
            new Route(HttpMethod.GET, "/api/training/metrics", Access.PARTICIPANT, Body.NONE),
            new Route(HttpMethod.GET, "/api/events", Access.PARTICIPANT, Body.NONE),
            new Route(HttpMethod.GET, "/api/quality", Access.READER, Body.NONE),
            // One pair with everyone's votes, skips and comments (pairs: the latest ones to pick from).
            new Route(HttpMethod.GET, "/api/quality/pairs", Access.READER, Body.NONE),
            new Route(HttpMethod.GET, "/api/quality/pair", Access.READER, Body.NONE),
            new Route(HttpMethod.POST, "/api/prompts", Access.ADMIN, Body.UPLOAD),
            new Route(HttpMethod.GET, "/api/export", Access.ADMIN, Body.NONE),
            new Route(HttpMethod.GET, "/api/adapter", Access.ADMIN, Body.NONE),
            new Route(HttpMethod.POST, "/api/trainer/pause", Access.ADMIN, Body.NONE),
            new Route(HttpMethod.POST, "/api/trainer/resume", Access.ADMIN, Body.NONE),
            new Route(HttpMethod.GET, "/metrics", Access.ADMIN, Body.NONE),
            // A preference campaign: undo, skips, pair flags (voters, their own only); gold and flags (admin).
            new Route(HttpMethod.POST, "/api/preferences/change", Access.VOTER, Body.JSON),
            new Route(HttpMethod.POST, "/api/preferences/withdraw", Access.VOTER, Body.JSON),
            new Route(HttpMethod.POST, "/api/skips", Access.VOTER, Body.JSON),
            new Route(HttpMethod.POST, "/api/pair-flags", Access.VOTER, Body.JSON),
            new Route(HttpMethod.POST, "/api/gold", Access.ADMIN, Body.UPLOAD),
            new Route(HttpMethod.GET, "/api/quality/flags", Access.ADMIN, Body.NONE),
            new Route(HttpMethod.POST, "/api/quality/flags", Access.ADMIN, Body.JSON),
            // Accounts (AccountsApi): the annotator routes answer 409 unless --annotation accounts.
            new Route(HttpMethod.GET, "/api/annotators", Access.ADMIN, Body.NONE),
            new Route(HttpMethod.POST, "/api/annotators", Access.ADMIN, Body.JSON),
            new Route(HttpMethod.POST, "/api/annotators/status", Access.ADMIN, Body.JSON),
            new Route(HttpMethod.POST, "/api/annotators/token", Access.ADMIN, Body.JSON),
            new Route(HttpMethod.POST, "/api/invites", Access.ADMIN, Body.JSON),
            // The invite code or token in the body is the credential; failures count in the limiter.
            new Route(HttpMethod.POST, "/api/session", Access.PUBLIC, Body.JSON),
            new Route(HttpMethod.POST, "/api/session/end", Access.PARTICIPANT, Body.NONE),
            new Route(HttpMethod.GET, "/api/guidelines", Access.PARTICIPANT, Body.NONE),
            new Route(HttpMethod.POST, "/api/guidelines", Access.ADMIN, Body.JSON),
            new Route(HttpMethod.GET, "/api/progress", Access.PARTICIPANT, Body.NONE),
            // Policy versions (issue 12): the leaderboard and the versions for viewers; pins and rollback (admin).
            new Route(HttpMethod.GET, "/api/leaderboard", Access.READER, Body.NONE),
            new Route(HttpMethod.GET, "/api/policy", Access.READER, Body.NONE),
            new Route(HttpMethod.POST, "/api/policy/pin", Access.ADMIN, Body.JSON),
            new Route(HttpMethod.POST, "/api/policy/unpin", Access.ADMIN, Body.JSON),
            new Route(HttpMethod.POST, "/api/policy/rollback", Access.ADMIN, Body.JSON),
            new Route(HttpMethod.POST, "/api/policy/release", Access.ADMIN, Body.NONE),
            // Only with bench_route: the framework's ceiling, for load tests.
            new Route(HttpMethod.GET, "/api/bench/constant", Access.PUBLIC, Body.NONE));

    static Route route(HttpMethod method, String path) {
        for (Route r : ROUTES) {
            if (r.method.equals(method) && r.path.equals(path)) {
                return r;
            }
        }
        throw new IllegalStateException("no row in the route table for " + method + " " + path);
    }

    /** The distinct paths, in table order. */
    static List<String> paths() {
        return ROUTES.stream().map(Route::path).distinct().toList();
    }

    /** The Allow header for a path: its methods. */
    static String allow(String path) {
        Set<String> methods = new TreeSet<>();
        for (Route r : ROUTES) {
            if (r.path.equals(path)) {
                methods.add(r.method.name());
            }
        }
        return String.join(", ", methods);
    }
}
