package org.pairwise.server.http;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.pairwise.server.Addresses;
import org.pairwise.server.auth.Principal;

/**
 * GET /api/events: Server-Sent Events for the dashboard. One subscription per address, fanned out to every open
 * stream. Event names: {@code vote}, {@code step} (TRL metric names), {@code policy}, {@code trainer}, {@code pair}.
 * Each stream gets what its reader may see ({@link Visibility}): a vote whole to its own annotator and the admin,
 * without its key to viewers, as a bare count to everyone else; no server paths, no trainer error text for
 * annotators. Event-loop only. A client that cannot keep up misses events rather than growing the server's memory.
 */
final class EventStream {
    private static final Map<String, String> EVENTS = Map.of(
            Addresses.PREFERENCES_RECORDED, "vote",
            Addresses.TRAINING_STEP, "step",
            Addresses.POLICY_UPDATED, "policy",
            Addresses.TRAINER_STATE, "trainer",
            Addresses.PAIR_GENERATED, "pair");
    private static final long HEARTBEAT_MS = 15_000;

    private final Map<HttpServerResponse, Principal> clients = new LinkedHashMap<>();
    private final List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();
    private long heartbeat = -1;

    void start(Vertx vertx) {
        // With nobody listening, encoding every vote's event is wasted work on the event loop (thousands a second
        // under load).
        EVENTS.forEach((address, event) -> consumers.add(vertx.eventBus().<JsonObject>consumer(address, m -> {
            if (!clients.isEmpty()) {
                deliver(event, m.body());
            }
        })));
        // A comment line now and then keeps proxies and browsers from timing out an idle stream.
        heartbeat = vertx.setPeriodic(HEARTBEAT_MS, id -> broadcast(who -> ": ping\n\n"));
    }

    void handle(RoutingContext ctx) {
        HttpServerResponse resp = ctx.response();
        resp.setChunked(true).putHeader("Content-Type", "text/event-stream; charset=utf-8")
                .putHeader("Cache-Control", "no-cache").putHeader("X-Accel-Buffering", "no");
        resp.write("retry: 3000\n\n");
        clients.put(resp, Auth.principal(ctx));
        resp.closeHandler(v -> clients.remove(resp));
    }

    /** Ends the open streams of this person (an account just disabled or deleted): they lose what they read. */
    void endFor(String name) {
        for (Map.Entry<HttpServerResponse, Principal> e : List.copyOf(clients.entrySet())) {
            if (e.getValue().name().equals(name)) {
                clients.remove(e.getKey());
                if (!e.getKey().closed() && !e.getKey().ended()) {
                    e.getKey().end();
                }
            }
        }
    }

    void stop(Vertx vertx) {
        vertx.cancelTimer(heartbeat);
        consumers.forEach(MessageConsumer::unregister);
        for (HttpServerResponse r : List.copyOf(clients.keySet())) {
            if (!r.closed() && !r.ended()) {
                r.end();
            }
        }
        clients.clear();
    }

    /** Encodes each distinct view of the event once, however many streams read it. */
    private void deliver(String event, JsonObject body) {
        Map<Object, String> frames = new HashMap<>();
        Function<Object, String> frame = view -> frames.computeIfAbsent(view, v -> "event: " + event + "\ndata: "
                + shown(event, body, v).encode() + "\n\n");
        broadcast(who -> frame.apply(view(event, body, who)));
    }

    /** What distinguishes what this reader sees of this event. */
    private static Object view(String event, JsonObject body, Principal who) {
        return switch (event) {
            case "vote" -> Visibility.of(who, body.getString("annotator"));
            case "trainer" -> who.role().readsEveryone();
            default -> Boolean.TRUE;
        };
    }

    private static JsonObject shown(String event, JsonObject body, Object view) {
        return switch (event) {
            case "vote" -> Visibility.vote(body, (Visibility.View) view);
            case "trainer" -> Boolean.TRUE.equals(view) ? body : Visibility.withoutError(body);
            case "policy" -> {
                JsonObject p = body.copy();
                p.remove("adapter_dir");  // a path on the server's disk
                yield p;
            }
            default -> body;
        };
    }

    private void broadcast(Function<Principal, String> frameFor) {
        for (Map.Entry<HttpServerResponse, Principal> e : List.copyOf(clients.entrySet())) {
            HttpServerResponse r = e.getKey();
            if (r.closed() || r.ended()) {
                clients.remove(r);
            } else if (!r.writeQueueFull()) {
                r.write(frameFor.apply(e.getValue()));
            }
        }
    }
}
