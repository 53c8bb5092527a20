package org.pairwise.server.http;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import org.pairwise.server.config.ServeConfig;
import org.pairwise.server.eval.BradleyTerry;
import org.pairwise.server.eval.VersionBoard;
import org.pairwise.server.eval.WinRates;
import org.pairwise.server.gen.PairPool;
import org.pairwise.server.quality.Wilson;
import org.pairwise.server.store.PreferenceStore;
import org.pairwise.server.train.PublishedPolicies;
import org.pairwise.server.train.TrainerLoop;

/**
 * GET /api/leaderboard?rounds=N&amp;both_bad=tie|exclude&amp;method=newton|mm (viewers and the admin): Bradley-Terry
 * ratings of the policy versions from every counted battle vote (v0 anchored at 1000, 400 points a factor 10 in the
 * odds), with percentile-bootstrap 95% intervals over votes ({@code rounds}, default {@value #DEFAULT_ROUNDS}), the
 * win-rate matrix with counts, each version's win rate against v0 (over decisive votes, Wilson 95%), the KL guard's
 * measurements and the guard's state. Fitted on the I/O executor, never on the event loop; an answer is reused for
 * {@value #CACHE_MS} ms for the same parameters (the fit; the served version and the guard are read fresh).
 */
final class LeaderboardApi {
    static final int DEFAULT_ROUNDS = 200;
    static final int MAX_ROUNDS = 2000;
    static final long CACHE_MS = 2000;

    private final ApiServices services;
    private final PreferenceStore store;
    private final PairPool pool;
    private final TrainerLoop trainer;
    private final PublishedPolicies policies;
    private final ServeConfig cfg;
    private final Executor io;
    private final Context context;
    private String cachedKey;
    private long cachedAt;
    private JsonObject cached;

    LeaderboardApi(ApiServices s, Context context) {

        this.services = s;
        this.store = s.store();
        this.pool = s.pool();
        this.trainer = s.trainer();
        this.policies = s.policies();
        this.cfg = s.config();
        this.io = s.io();
        this.context = context;
    }

    void leaderboard(RoutingContext ctx) {
        int rounds = Responses.intParam(ctx, "rounds", DEFAULT_ROUNDS, 0, MAX_ROUNDS);
        String bothBad = param(ctx, "both_bad", cfg.leaderboardBothBad(), "tie", "exclude");
        String method = param(ctx, "method", "newton", "newton", "mm");
        String key = rounds + "/" + bothBad + "/" + method;
        long now = System.currentTimeMillis();
        if (key.equals(cachedKey) && now - cachedAt < CACHE_MS) {
            Responses.json(ctx, 200, live(cached.copy()));
            return;
        }
        BradleyTerry.Options options = BradleyTerry.Options.defaults(VersionBoard.player(0))
                .withBothBad(bothBad.equals("tie") ? BradleyTerry.BothBad.TIE : BradleyTerry.BothBad.EXCLUDE)
                .withBootstrap(rounds, 0L)
                .withMethod(method.equals("mm") ? BradleyTerry.Method.MINORIZE_MAXIMIZE : BradleyTerry.Method.NEWTON);
        Future.fromCompletionStage(store.battleVotes(cfg.excludeFlagged()).thenApplyAsync(votes -> {
            try {
                Map<String, Integer> pins = policies.pins();
                Set<Integer> listed = new LinkedHashSet<>(policies.kept());
                listed.addAll(pins.values());
                return wire(VersionBoard.of(votes, listed, options), pins, rounds, bothBad, method);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, io), context).onSuccess(body -> {
            cachedKey = key;
            cachedAt = now;
            cached = body;
            Responses.json(ctx, 200, live(body.copy()));
        }).onFailure(ctx::fail);
    }

    /** What changes without a vote (the served version, the guard) is never taken from the cache. */
    private JsonObject live(JsonObject fit) {
        return fit.put("served_version", pool.policyVersion()).put("kl", trainer.klHistory())
                .put("guard", services.trainerStatus().getJsonObject("guard"));
    }

    private static String param(RoutingContext ctx, String name, String dflt, String... allowed) {
        String v = Responses.query(ctx, name);
        if (v == null) {
            return dflt;
        }
        for (String a : allowed) {
            if (a.equals(v)) {
                return v;
            }
        }
        throw ApiError.badRequest(name + " must be one of " + String.join(", ", allowed) + ", got '" + v + "'");
    }

    static JsonObject wire(VersionBoard vb, Map<String, Integer> pins, int rounds, String bothBad, String method) {
        BradleyTerry.Leaderboard b = vb.board();
        JsonArray standings = new JsonArray();
        for (BradleyTerry.Standing s : b.standings()) {
            int version = VersionBoard.version(s.player());
            JsonArray names = new JsonArray();
            pins.forEach((name, v) -> {
                if (v == version) {
                    names.add(name);
                }
            });
            standings.add(new JsonObject().put("policy_version", version).put("rating", s.rating())
                    .put("low", s.low()).put("high", s.high()).put("log_strength", s.logStrength())
                    .put("battles", s.battles()).put("component", s.component()).put("pinned", names));
        }
        WinRates w = b.winRates();
        JsonArray versions = new JsonArray();
        w.players().forEach(p -> versions.add(VersionBoard.version(p)));
        JsonArray rows = new JsonArray();
        for (WinRates.Cell[] row : w.cells()) {
            JsonArray r = new JsonArray();
            for (WinRates.Cell c : row) {
                r.add(new JsonObject().put("battles", c.battles()).put("wins", c.wins()).put("losses", c.losses())
                        .put("ties", c.ties()).put("both_bad", c.bothBad())
                        .put("win_rate", Double.isNaN(c.winRate()) ? null : c.winRate()));
            }
            rows.add(r);
        }
        JsonArray line = new JsonArray();
        for (VersionBoard.VsReference p : vb.vsReference()) {
            Wilson.Proportion rate = p.rate();
            line.add(new JsonObject().put("policy_version", p.version()).put("first_battle_at", p.firstBattleAt())
                    .put("wins", p.matchup().wins()).put("losses", p.matchup().losses())
                    .put("ties", p.matchup().ties()).put("both_bad", p.matchup().bothBad())
                    .put("win_rate", rate == null ? null : rate.rate()).put("low", rate == null ? null : rate.low())
                    .put("high", rate == null ? null : rate.high()));
        }
        return new JsonObject().put("reference", 0).put("anchor", 1000).put("rounds", rounds)
                .put("both_bad", bothBad).put("method", method).put("counted_votes", b.counted())
                .put("excluded_votes", b.excluded()).put("standings", standings)
                .put("win_rates", new JsonObject().put("versions", versions).put("cells", rows))
                .put("vs_reference", line);
    }
}
