package org.pairwise.server.http;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.pairwise.server.Addresses;

/**
 * GET /api/events: Server-Sent Events for the dashboard. One subscription per address, fanned out to every open
 * stream. Event names: {@code vote}, {@code step} (TRL metric names), {@code policy}, {@code trainer}, {@code pair}.
 * Event-loop only. A client that cannot keep up misses events rather than growing the server's memory.
 */
final class EventStream {
    private static final Map<String, String> EVENTS = Map.of(
            Addresses.PREFERENCES_RECORDED, "vote",
            Addresses.TRAINING_STEP, "step",
            Addresses.POLICY_UPDATED, "policy",
            Addresses.TRAINER_STATE, "trainer",
            Addresses.PAIR_GENERATED, "pair");
    private static final long HEARTBEAT_MS = 15_000;

    private final Set<HttpServerResponse> clients = new LinkedHashSet<>();
    private final List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();
    private long heartbeat = -1;

    void start(Vertx vertx) {
        // With nobody listening, encoding every vote's event is wasted work on the event loop (thousands a second
        // under load).
        EVENTS.forEach((address, event) -> consumers.add(vertx.eventBus().<JsonObject>consumer(address, m -> {
            if (!clients.isEmpty()) {
                broadcast("event: " + event + "\ndata: " + m.body().encode() + "\n\n");
            }
        })));
        // A comment line now and then keeps proxies and browsers from timing out an idle stream.
        heartbeat = vertx.setPeriodic(HEARTBEAT_MS, id -> broadcast(": ping\n\n"));
    }

    void handle(RoutingContext ctx) {
        HttpServerResponse resp = ctx.response();
        resp.setChunked(true).putHeader("Content-Type", "text/event-stream; charset=utf-8")
                .putHeader("Cache-Control", "no-cache").putHeader("X-Accel-Buffering", "no");
        resp.write("retry: 3000\n\n");
        clients.add(resp);
        resp.closeHandler(v -> clients.remove(resp));
    }

    void stop(Vertx vertx) {
        vertx.cancelTimer(heartbeat);
        consumers.forEach(MessageConsumer::unregister);
        for (HttpServerResponse r : List.copyOf(clients)) {
            if (!r.closed() && !r.ended()) {
                r.end();
            }
        }
        clients.clear();
    }

    private void broadcast(String frame) {
        for (HttpServerResponse r : List.copyOf(clients)) {
            if (r.closed() || r.ended()) {
                clients.remove(r);
            } else if (!r.writeQueueFull()) {
                r.write(frame);
            }
        }
    }
}
