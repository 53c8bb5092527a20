package org.pairwise.server.http;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;
import org.pairwise.model.tokenizer.ChatTemplate;
import org.pairwise.server.gen.Conversation;
import org.pairwise.server.gen.PairGenerator.PromptInput;
import org.pairwise.server.gen.PairGenerator.TextListener;
import org.pairwise.server.gen.PairPool;
import org.pairwise.server.gen.PairPool.ServedPair;
import org.pairwise.server.gen.PromptSet;
import java.util.concurrent.ThreadLocalRandom;
import org.pairwise.server.config.ServeConfig;
import org.pairwise.server.store.PreferenceStore;
import org.pairwise.server.store.PreferenceStore.Choice;

/**
 * GET /api/pairs/next leases a pair to the caller (see {@link #next}); POST /api/pairs (a person's own prompt) and
 * POST /api/pairs/continue (the next turn of a voted pair's conversation, see {@link #continueConversation}) generate
 * one now, streamed as Server-Sent Events when the client accepts text/event-stream: events {@code a} and {@code b}
 * carry each side's text deltas, then {@code pair} the stored pair with its pair_id, or {@code error}.
 */
final class PairsApi {
    private static final long NEXT_TIMEOUT_SECONDS = 30;

    /** The longest next user message of a conversation: as long as the page lets an own prompt be. */
    static final int MAX_MESSAGE = 4000;

    static final String NO_CHAT_TEMPLATE = "continuing a conversation needs a chat template to render its turns, "
            + "and this model has none: " + ChatTemplate.HOW_TO_GIVE_ONE + " when the server starts";

    /** Fresh pairs tried per request; a fresh pair is refused only in a race with another server on the store. */
    private static final int POOL_TRIES = 3;

    private final PairPool pool;
    private final PreferenceStore store;
    private final long leaseMillis;
    private final double goldRate;
    private final Context context;
    /**
     * The encoded JSON of recently served pairs (event-loop only): with pair_views above 1 the same pair goes out many
     * times, and encoding it again for each request was most of the cost of this route.
     */
    private final Map<String, Buffer> encoded;

    PairsApi(PairPool pool, PreferenceStore store, ServeConfig cfg, Context context) {
        this.pool = pool;
        this.store = store;
        this.leaseMillis = cfg.leaseSeconds() * 1000L;
        this.goldRate = cfg.goldRate();
        this.context = context;
        int poolSize = cfg.poolSize();
        int capacity = Math.max(16, 2 * poolSize);
        this.encoded = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Buffer> eldest) {
                return size() > capacity;
            }
        };
    }

    /**
     * Leases a pair to the caller for lease_seconds: at gold_rate a gold pair they have not seen (shown like any
     * other), else a pair someone was handed already that is still short of its k votes, else a fresh one from the
     * pool (which hands each pair out once; its other slots go by the first two ways). Every hand-out is a lease in the
     * store, which refuses a pair whose k slots are taken or that this person was handed before.
     */
    void next(RoutingContext ctx) {
        String who = Auth.principal(ctx).name();
        boolean gold = goldRate > 0 && ThreadLocalRandom.current().nextDouble() < goldRate;
        Future<Buffer> stored = gold ? leased(who, "gold", false) : Future.succeededFuture();
        stored.compose(b -> b != null ? Future.succeededFuture(b) : leased(who, "policy", true))
                .compose(b -> b != null ? Future.succeededFuture(b) : leased(who, "battle", true))
                .compose(b -> b != null ? Future.succeededFuture(b) : fromPool(who, POOL_TRIES))
                .onSuccess(body -> ctx.response().setStatusCode(200)
                        .putHeader("Content-Type", "application/json; charset=utf-8").end(body))
                .onFailure(t -> ctx.fail(Failures.unwrap(t) instanceof TimeoutException
                        ? new ApiError(503, "no pair is ready yet: the generator is warming up or busy; retry")
                        : t));
    }

    /** A stored pair of this kind leased to who, encoded; null when there is none for them. */
    private Future<Buffer> leased(String who, String kind, boolean startedOnly) {
        return Future.fromCompletionStage(store.leaseNext(who, kind, startedOnly, leaseMillis), context)
                .map(p -> p.map(l -> Wire.leased(l, l.kind().equals("gold") ? pool.policyVersion()
                        : l.pair().policyVersion()).toBuffer()).orElse(null));
    }

    private Future<Buffer> fromPool(String who, int triesLeft) {
        CompletableFuture<ServedPair> ready = pool.next().orTimeout(NEXT_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        return Future.fromCompletionStage(ready, context).compose(p ->
                Future.fromCompletionStage(store.lease(p.pairId(), who, leaseMillis), context).compose(ok -> {
                    if (ok) {
                        return Future.succeededFuture(encoded.computeIfAbsent(p.pairId(),
                                id -> Wire.pair(p).toBuffer()));
                    }
                    return triesLeft > 1 ? fromPool(who, triesLeft - 1) : Future.failedFuture(new ApiError(503,
                            "no pair is free for you right now; retry"));
                }));
    }

    void create(RoutingContext ctx) {
        PromptInput input = PromptSet.fromJson(Responses.object(ctx).encode());
        generated(ctx, (onA, onB) -> Future.fromCompletionStage(pool.generate(input, onA, onB), context)
                .map(Wire::pair));
    }

    /**
     * POST /api/pairs/continue {pair_id, message}: the caller's A or B vote on the pair makes the response they
     * preferred the assistant's turn and message the next user turn; the pair generated over the whole
     * conversation (streamed as {@link #create} streams) is leased to them and comes back with its parent_pair_id.
     * Refused: no chat template (409, naming --chat-template), an unknown pair (404), no vote of theirs on it (403),
     * a tie or both-bad vote (409: there is no preferred response to continue from).
     */
    void continueConversation(RoutingContext ctx) {
        JsonObject body = Responses.object(ctx);
        String pairId = Responses.requiredString(body, "pair_id", Responses.MAX_ID);
        String message = Responses.requiredString(body, "message", MAX_MESSAGE);
        try {
            Conversation.userMessage(message);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
        if (!pool.hasChatTemplate()) {
            throw new ApiError(409, NO_CHAT_TEMPLATE);
        }
        String who = Auth.principal(ctx).name();
        Future.fromCompletionStage(store.continuationStart(pairId, who), context).onSuccess(start -> {
            switch (start.outcome()) {
                case UNKNOWN_PAIR -> ctx.fail(new ApiError(404, "unknown pair",
                        new JsonObject().put("pair_id", pairId)));
                case NOT_VOTED -> ctx.fail(new ApiError(403, "only someone who voted on a pair may continue its "
                        + "conversation, and you have no vote on this one"));
                case NO_PREFERENCE -> ctx.fail(new ApiError(409, "continuing makes the response you preferred the "
                        + "assistant's turn, and you voted " + (start.choice() == Choice.TIE ? "tie" : "both bad")
                        + " on this pair: change your vote to A or B (while you may undo it) to continue"));
                case OK -> generated(ctx, (onA, onB) -> Future.fromCompletionStage(pool.continueConversation(pairId,
                        start, who, message, leaseMillis, onA, onB), context).map(p -> Wire.pair(p.orElseThrow(
                        () -> new ApiError(409, "your vote on that pair was changed or withdrawn while the "
                                + "continuation was generated; nothing was stored"))).put("parent_pair_id", pairId)));
            }
        }).onFailure(ctx::fail);
    }

    /**
     * Answers with a pair made now: as JSON (201), or streamed as Server-Sent Events when the client accepts
     * text/event-stream. Headers go out with the first token, so a prompt the model rejects still gets plain JSON.
     */
    private void generated(RoutingContext ctx, BiFunction<TextListener, TextListener, Future<JsonObject>> generate) {
        String accept = ctx.request().getHeader("Accept");
        if (accept == null || !accept.contains("text/event-stream")) {
            generate.apply(null, null).onSuccess(p -> Responses.json(ctx, 201, p)).onFailure(ctx::fail);
            return;
        }
        HttpServerResponse resp = ctx.response();
        generate.apply(delta("a", resp), delta("b", resp))
                .onSuccess(p -> {
                    sse(resp, "pair", p);
                    resp.end();
                })
                .onFailure(t -> {
                    if (!resp.headWritten()) {
                        ctx.fail(t);
                    } else {
                        sse(resp, "error", new JsonObject().put("error",
                                Failures.clientMessage(Failures.unwrap(t))));
                        resp.end();
                    }
                });
    }

    private TextListener delta(String side, HttpServerResponse resp) {
        return text -> {
            if (!text.isEmpty()) {
                context.runOnContext(v -> sse(resp, side, new JsonObject().put("text", text)));
            }
        };
    }

    /** Writes one event; starts the stream on the first one. Event-loop only. */
    static void sse(HttpServerResponse resp, String event, JsonObject data) {
        if (resp.closed() || resp.ended()) {
            return;
        }
        if (!resp.headWritten()) {
            resp.setChunked(true).putHeader("Content-Type", "text/event-stream; charset=utf-8")
                    .putHeader("Cache-Control", "no-cache").putHeader("X-Accel-Buffering", "no");
        }
        resp.write("event: " + event + "\ndata: " + data.encode() + "\n\n");
    }
}
