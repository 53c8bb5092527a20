package org.pairwise.server.http;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.random.RandomGenerator;
import org.pairwise.server.auth.Principal;
import org.pairwise.server.config.ServeConfig;
import org.pairwise.server.gen.GoldSet;
import org.pairwise.server.store.PreferenceStore;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.PreferenceStore.GoldPair;
import org.pairwise.server.store.PreferenceStore.SkipReason;
import org.pairwise.server.store.PreferenceStore.UndoResult;

/**
 * A campaign's routes besides voting: undo (change or withdraw one's own vote inside undo_window), skips with a
 * reason, per-pair flags, gold upload (admin), and annotator flags set by hand (admin). The person is always the
 * request's {@link Principal}: nobody undoes, skips or flags as someone else.
 */
final class CampaignApi {

    private final PreferenceStore store;
    private final long undoWindowMillis;
    private final Executor io;
    private final Context context;
    private final RandomGenerator sides = RandomGenerator.of("L64X128MixRandom");

    CampaignApi(PreferenceStore store, ServeConfig cfg, Executor io, Context context) {
        this.store = store;
        this.undoWindowMillis = cfg.undoWindow() * 1000L;
        this.io = io;
        this.context = context;
    }

    /** POST /api/preferences/change {vote_id, choice}. */
    void change(RoutingContext ctx) {
        JsonObject body = Responses.object(ctx);
        long voteId = voteId(body);
        Choice choice;
        try {
            choice = Choice.fromWire(Responses.requiredString(body, "choice", 20));
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
        undo(ctx, voteId, choice);
    }

    /** POST /api/preferences/withdraw {vote_id}. */
    void withdraw(RoutingContext ctx) {
        undo(ctx, voteId(Responses.object(ctx)), null);
    }

    private static long voteId(JsonObject body) {
        if (!(body.getValue("vote_id") instanceof Number n) || n.longValue() < 1 || n.doubleValue() != n.longValue()) {
            throw ApiError.badRequest("vote_id must be a positive integer");
        }
        return n.longValue();
    }

    private void undo(RoutingContext ctx, long voteId, Choice choice) {
        Principal who = Auth.principal(ctx);
        Future.fromCompletionStage(store.undo(voteId, who.name(), choice, undoWindowMillis), context)
                .onSuccess(r -> {
                    switch (r.outcome()) {
                        case CHANGED, WITHDRAWN -> Responses.json(ctx, 200, Wire.vote(r.vote())
                                .put("withdrawn", r.outcome() == UndoResult.Outcome.WITHDRAWN));
                        case NOT_FOUND -> ctx.fail(new ApiError(404, "no vote of yours has that id",
                                new JsonObject().put("vote_id", voteId)));
                        case ALREADY_WITHDRAWN -> ctx.fail(new ApiError(409, "that vote was withdrawn already"));
                        case WINDOW_CLOSED -> ctx.fail(new ApiError(409, "the undo window ("
                                + undoWindowMillis / 1000 + " s) of that vote has passed"));
                    }
                })
                .onFailure(ctx::fail);
    }

    /** POST /api/skips {pair_id, reason, comment?}. */
    void skip(RoutingContext ctx) {
        JsonObject body = Responses.object(ctx);
        String pairId = Responses.requiredString(body, "pair_id", Responses.MAX_ID);
        SkipReason reason;
        try {
            reason = SkipReason.fromWire(Responses.requiredString(body, "reason", 40));
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
        String comment = Responses.optionalString(body, "comment", Responses.MAX_COMMENT);
        Principal who = Auth.principal(ctx);
        Future.fromCompletionStage(store.skip(pairId, who.name(), reason, comment), context)
                .onSuccess(r -> {
                    JsonObject out = new JsonObject().put("pair_id", pairId).put("reason", reason.wire())
                            .put("annotator", who.name());
                    switch (r) {
                        case SKIPPED -> Responses.json(ctx, 201, out);
                        case DUPLICATE -> Responses.json(ctx, 200, out.put("duplicate", true));
                        case ALREADY_VOTED -> ctx.fail(new ApiError(409, "you voted on this pair: withdraw the "
                                + "vote first to skip it"));
                        case UNKNOWN_PAIR -> ctx.fail(new ApiError(404, "unknown pair",
                                new JsonObject().put("pair_id", pairId)));
                    }
                })
                .onFailure(ctx::fail);
    }

    /** POST /api/pair-flags {pair_id, comment}: a note on a pair for the admin. */
    void flagPair(RoutingContext ctx) {
        JsonObject body = Responses.object(ctx);
        String pairId = Responses.requiredString(body, "pair_id", Responses.MAX_ID);
        String comment = Responses.requiredString(body, "comment", Responses.MAX_COMMENT);
        if (comment.isBlank()) {
            throw ApiError.badRequest("comment must say what is wrong with the pair");
        }
        Principal who = Auth.principal(ctx);
        Future.fromCompletionStage(store.flagPair(pairId, who.name(), comment), context)
                .onSuccess(id -> {
                    if (id < 0) {
                        ctx.fail(new ApiError(404, "unknown pair", new JsonObject().put("pair_id", pairId)));
                    } else {
                        Responses.json(ctx, 201, new JsonObject().put("id", id).put("pair_id", pairId)
                                .put("annotator", who.name()).put("comment", comment));
                    }
                })
                .onFailure(ctx::fail);
    }

    /** POST /api/gold: TRL JSONL (prompt, chosen = the right answer, rejected); each stored with random sides. */
    void uploadGold(RoutingContext ctx) {
        AdminApi.uploaded(ctx).compose(buf -> Future.fromCompletionStage(CompletableFuture.supplyAsync(
                        () -> GoldSet.parse(buf.toString(StandardCharsets.UTF_8), "upload"), io), context))
                .compose(this::storeGold)
                .onSuccess(ids -> Responses.json(ctx, 201, new JsonObject().put("added", ids.size())
                        .put("pair_ids", new JsonArray(ids))))
                .onFailure(ctx::fail);
    }

    private Future<List<String>> storeGold(List<GoldPair> gold) {
        List<Future<String>> stored = new ArrayList<>();
        for (GoldPair g : gold) {
            stored.add(Future.fromCompletionStage(store.addGoldPair(g, sides.nextBoolean()), context));
        }
        return Future.all(stored).map(all -> all.list());
    }

    /** GET /api/quality/flags: every annotator flag set so far. */
    void flags(RoutingContext ctx) {
        Future.fromCompletionStage(store.annotatorFlags(), context)
                .onSuccess(flags -> {
                    JsonArray out = new JsonArray();
                    flags.forEach(f -> out.add(new JsonObject().put("annotator", f.annotator())
                            .put("flagged", f.flagged()).put("reason", f.reason())
                            .put("changed_at", f.changedAtMillis()).put("changed_by", f.changedBy())));
                    Responses.json(ctx, 200, new JsonObject().put("flags", out));
                })
                .onFailure(ctx::fail);
    }

    /** POST /api/quality/flags {annotator, flagged, reason?}: flag or un-flag an annotator by hand. */
    void setFlag(RoutingContext ctx) {
        JsonObject body = Responses.object(ctx);
        String annotator = Responses.requiredString(body, "annotator", Responses.MAX_ID);
        if (!(body.getValue("flagged") instanceof Boolean flagged)) {
            throw ApiError.badRequest("flagged must be true or false");
        }
        String reason = Responses.optionalString(body, "reason", Responses.MAX_COMMENT);
        String by = Auth.principal(ctx).name();
        Future.fromCompletionStage(store.setAnnotatorFlag(annotator, flagged, reason, by), context)
                .onSuccess(v -> Responses.json(ctx, 200, new JsonObject().put("annotator", annotator)
                        .put("flagged", flagged).put("reason", reason).put("changed_by", by)))
                .onFailure(ctx::fail);
    }
}
