package org.pairwise.server.http;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.pairwise.server.Addresses;
import org.pairwise.server.ServerMetrics;
import org.pairwise.server.auth.Principal;
import org.pairwise.server.store.PreferenceStore;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.PreferenceStore.VoteRequest;
import org.pairwise.server.store.PreferenceStore.VoteResult;
import org.slf4j.LoggerFactory;

/**
 * POST /api/preferences: validate, store (acknowledged only after the commit), then announce on the event bus. The
 * vote's annotator is who the request comes from ({@link Auth}); an {@code annotator} in the body is accepted for
 * older clients and ignored, so nobody votes under another person's name.
 * GET /api/votes/latest: the newest votes with their pairs, for the dashboard: everyone's for viewers and the admin,
 * the reader's own for an annotator.
 */
final class VotesApi {

    private final PreferenceStore store;
    private final EventBus bus;
    private final ServerMetrics metrics;
    private final Context context;
    private final long undoWindowMillis;
    private static final DeliveryOptions SHARED = new DeliveryOptions().setCodecName(SharedJsonCodec.NAME);
    private final ConcurrentLinkedQueue<Runnable> committed = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    /** Commit times of the last minute's votes (event-loop only), for votes_per_minute. */
    private final ArrayDeque<Long> recent = new ArrayDeque<>();

    /** undoWindowMillis: how long the voter may change or withdraw the vote (the reply says until when). */
    VotesApi(PreferenceStore store, EventBus bus, ServerMetrics metrics, Context context, long undoWindowMillis) {
        this.store = store;
        this.undoWindowMillis = undoWindowMillis;
        this.bus = bus;
        this.metrics = metrics;
        this.context = context;
        SharedJsonCodec.register(bus);
    }

    void record(RoutingContext ctx) {
        JsonObject body = Responses.object(ctx);
        String pairId = Responses.requiredString(body, "pair_id", Responses.MAX_ID);
        Choice choice;
        try {
            choice = Choice.fromWire(Responses.requiredString(body, "choice", 20));
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
        // still checked: a client sending junk should hear
        Responses.optionalString(body, "annotator", Responses.MAX_ID);
        Principal who = Auth.principal(ctx);
        String key = Responses.optionalString(body, "idempotency_key", Responses.MAX_ID);
        String comment = Responses.optionalString(body, "comment", Responses.MAX_COMMENT);
        store.recordVote(new VoteRequest(pairId, choice, who.name(), key, comment)).whenComplete((r, t) ->
                onLoop(() -> {
                    if (t != null) {
                        ctx.fail(t);
                    } else {
                        reply(ctx, r, who);
                    }
                }));
    }

    /**
     * Runs {@code task} on this verticle's event loop. The store's writer completes a whole group commit at once;
     * handing each vote to the loop separately cost a wake-up of the loop per vote on the writer's thread (most of
     * its time under load, delaying the next commit). Queued here, one wake-up serves the batch.
     */
    private void onLoop(Runnable task) {
        committed.add(task);
        if (drainScheduled.compareAndSet(false, true)) {
            context.runOnContext(v -> drainCommitted());
        }
    }

    private void drainCommitted() {
        drainScheduled.set(false);  // before polling: a task added from now on either is polled below or reschedules
        for (Runnable task; (task = committed.poll()) != null; ) {
            try {
                task.run();
            } catch (RuntimeException e) {
                LoggerFactory.getLogger(VotesApi.class).warn("replying to a vote failed", e);
            }
        }
    }

    private void reply(RoutingContext ctx, VoteResult result, Principal who) {
        switch (result) {
            case VoteResult.Created c -> {
                JsonObject v = Wire.vote(c.vote());
                Responses.json(ctx, 201, v.copy().put("undo_until", c.vote().createdAtMillis() + undoWindowMillis));
                long now = System.currentTimeMillis();
                recent.add(now);
                metrics.vote(c.vote().choice().wire());
                bus.publish(Addresses.PREFERENCES_RECORDED, v, SHARED);
            }
            case VoteResult.Duplicate d -> Responses.json(ctx, 200, Wire.vote(d.original()).put("duplicate", true));
            case VoteResult.Conflict c -> ctx.fail(new ApiError(409, "a different vote already exists for this "
                    + "idempotency key, or from this annotator on this pair",
                    Visibility.vote(Wire.vote(c.original()), who)));
            case VoteResult.UnknownPair u -> ctx.fail(new ApiError(404, "unknown pair",
                    new JsonObject().put("pair_id", u.pairId())));
        }
    }

    /** Votes committed by this process in the last minute. Event-loop only. */
    int votesPerMinute() {
        long cutoff = System.currentTimeMillis() - 60_000;
        while (!recent.isEmpty() && recent.peekFirst() < cutoff) {
            recent.pollFirst();
        }
        return recent.size();
    }

    void latest(RoutingContext ctx) {
        int limit = Responses.intParam(ctx, "limit", 20, 1, 100);
        Principal who = Auth.principal(ctx);
        var found = who.role().readsEveryone() ? store.latestVotes(limit) : store.latestVotesBy(who.name(), limit);
        Future.fromCompletionStage(found, context)
                .compose(votes -> {
                    List<Future<JsonObject>> joined = new ArrayList<>();
                    for (var v : votes) {
                        joined.add(Future.fromCompletionStage(store.pair(v.pairId()), context)
                                .map(p -> Visibility.vote(Wire.vote(v), who)
                                        .put("pair", p.map(Wire::storedPair).orElse(null))));
                    }
                    return Future.all(joined).map(all -> new JsonArray(all.list()));
                })
                .onSuccess(a -> Responses.json(ctx, 200, new JsonObject().put("votes", a)))
                .onFailure(ctx::fail);
    }
}
