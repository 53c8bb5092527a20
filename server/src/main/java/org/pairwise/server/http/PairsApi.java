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
import org.pairwise.server.gen.PairGenerator.PromptInput;
import org.pairwise.server.gen.PairGenerator.TextListener;
import org.pairwise.server.gen.PairPool;
import org.pairwise.server.gen.PairPool.ServedPair;
import org.pairwise.server.gen.PromptSet;

/**
 * GET /api/pairs/next (from the ready pool) and POST /api/pairs (a person's own prompt, generated now; streamed as
 * Server-Sent Events when the client accepts text/event-stream: events {@code a} and {@code b} carry each side's
 * text deltas, then {@code pair} the stored pair with its pair_id, or {@code error}).
 */
final class PairsApi {
    private static final long NEXT_TIMEOUT_SECONDS = 30;

    private final PairPool pool;
    private final Context context;
    /**
     * The encoded JSON of recently served pairs (event-loop only): with pair_views above 1 the same pair goes out many
     * times, and encoding it again for each request was most of the cost of this route.
     */
    private final Map<String, Buffer> encoded;

    PairsApi(PairPool pool, Context context, int poolSize) {
        this.pool = pool;
        this.context = context;
        int capacity = Math.max(16, 2 * poolSize);
        this.encoded = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Buffer> eldest) {
                return size() > capacity;
            }
        };
    }

    void next(RoutingContext ctx) {
        CompletableFuture<ServedPair> ready = pool.next();
        if (ready.isDone() && !ready.isCompletedExceptionally()) {
            sendPair(ctx, ready.join());  // from the pool, on this event loop: no hop through another task
            return;
        }
        Future.fromCompletionStage(ready.orTimeout(NEXT_TIMEOUT_SECONDS, TimeUnit.SECONDS), context)
                .onSuccess(p -> sendPair(ctx, p))
                .onFailure(t -> ctx.fail(Failures.unwrap(t) instanceof TimeoutException
                        ? new ApiError(503, "no pair is ready yet: the generator is warming up or busy; retry")
                        : t));
    }

    private void sendPair(RoutingContext ctx, ServedPair p) {
        Buffer body = encoded.computeIfAbsent(p.pairId(), id -> Wire.pair(p).toBuffer());
        ctx.response().setStatusCode(200).putHeader("Content-Type", "application/json; charset=utf-8").end(body);
    }

    void create(RoutingContext ctx) {
        PromptInput input = PromptSet.fromJson(Responses.object(ctx).encode());
        String accept = ctx.request().getHeader("Accept");
        if (accept == null || !accept.contains("text/event-stream")) {
            Future.fromCompletionStage(pool.generate(input, null, null), context)
                    .onSuccess(p -> Responses.json(ctx, 201, Wire.pair(p)))
                    .onFailure(ctx::fail);
            return;
        }
        HttpServerResponse resp = ctx.response();
        // Headers go out with the first token, so a prompt the model rejects still gets a plain JSON 400.
        Future.fromCompletionStage(pool.generate(input, delta("a", resp), delta("b", resp)), context)
                .onSuccess(p -> {
                    sse(resp, "pair", Wire.pair(p));
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
