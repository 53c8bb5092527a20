package org.pairwise.launcher.loadtest;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A tiny server on loopback that speaks the annotation API and misbehaves on purpose, so the load test's audit and
 * retries can be shown to notice. Event-loop only (one verticle-less router on one loop).
 */
final class FakeServer implements AutoCloseable {
    enum Fault {
        /** The export leaves out the first A/B vote it stored (a lost write). */
        EXPORT_DROPS_ONE,
        /** The second vote is acknowledged with the first vote's id and not stored (merged away). */
        REUSES_AN_ID,
        /** Each vote's first try gets 429 with Retry-After; the retry with the same key is stored. */
        BUSY_ONCE,
        /** Behaves. */
        NONE
    }

    private record Vote(long id, String pairId, String choice, String annotator, String key) {}

    private final Vertx vertx = Vertx.vertx();
    private final HttpServer server;
    private final List<Vote> votes = new ArrayList<>();
    private final Set<String> refusedOnce = new HashSet<>();

    FakeServer(Fault fault) {
        Router r = Router.router(vertx);
        r.post().handler(BodyHandler.create());
        r.get("/api/pairs/next").handler(ctx -> {
            int i = ThreadLocalRandom.current().nextInt(20);
            ctx.json(new JsonObject().put("pair_id", "pair-" + i).put("prompt", "prompt " + i)
                    .put("a", new JsonObject().put("text", "short " + i))
                    .put("b", new JsonObject().put("text", "a longer response " + i)).put("policy_version", 0));
        });
        r.post("/api/preferences").handler(ctx -> {
            JsonObject b = ctx.body().asJsonObject();
            String key = b.getString("idempotency_key");
            if (fault == Fault.BUSY_ONCE && refusedOnce.add(key)) {
                ctx.response().setStatusCode(429).putHeader("Retry-After", "0.02")
                        .end(new JsonObject().put("error", "busy").encode());
                return;
            }
            Vote v = new Vote(votes.size() + 1, b.getString("pair_id"), b.getString("choice"), b.getString("annotator"),
                    key);
            if (fault == Fault.REUSES_AN_ID && votes.size() == 1 && !votes.getFirst().key().equals(key)) {
                ctx.response().setStatusCode(201).end(new JsonObject().put("id", votes.getFirst().id()).encode());
                return;
            }
            votes.add(v);
            ctx.response().setStatusCode(201).end(json(v).encode());
        });
        r.get("/api/stats").handler(ctx -> {
            JsonObject byAnnotator = new JsonObject(), byChoice = new JsonObject();
            for (Vote v : votes) {
                byAnnotator.put(v.annotator(), byAnnotator.getLong(v.annotator(), 0L) + 1);
                byChoice.put(v.choice(), byChoice.getLong(v.choice(), 0L) + 1);
            }
            ctx.json(new JsonObject().put("votes", votes.size()).put("votes_by_annotator", byAnnotator)
                    .put("votes_by_choice", byChoice).put("pool", new JsonObject().put("ready", 4).put("size", 4)));
        });
        r.get("/api/votes/latest").handler(ctx -> {
            JsonArray a = new JsonArray();
            for (int i = votes.size() - 1; i >= 0 && a.size() < 100; i--) {
                a.add(json(votes.get(i)));
            }
            ctx.json(new JsonObject().put("votes", a));
        });
        r.get("/api/export").handler(ctx -> {
            if (!"Bearer admin-token-1".equals(ctx.request().getHeader("Authorization"))) {
                ctx.response().setStatusCode(401).end();
                return;
            }
            StringBuilder out = new StringBuilder();
            boolean dropped = false;
            for (Vote v : votes) {
                if (!v.choice().equals("a") && !v.choice().equals("b")) {
                    continue;
                }
                if (fault == Fault.EXPORT_DROPS_ONE && !dropped) {
                    dropped = true;
                    continue;
                }
                int i = Integer.parseInt(v.pairId().substring("pair-".length()));
                String a = "short " + i, b = "a longer response " + i;
                boolean aWins = v.choice().equals("a");
                out.append(new JsonObject().put("prompt", "prompt " + i).put("chosen", aWins ? a : b)
                        .put("rejected", aWins ? b : a).encode()).append('\n');
            }
            ctx.response().putHeader("Content-Type", "application/jsonl").end(out.toString());
        });
        server = vertx.createHttpServer().requestHandler(r).listen(0, "127.0.0.1").await();
    }

    /** The annotators whose votes this server stored (each vote's annotator field). */
    Set<String> voters() {
        return vertx.executeBlocking(() -> {
            Set<String> out = new HashSet<>();
            votes.forEach(v -> out.add(v.annotator()));
            return out;
        }).await();
    }

    String url() {
        return "http://127.0.0.1:" + server.actualPort();
    }

    private static JsonObject json(Vote v) {
        return new JsonObject().put("id", v.id()).put("pair_id", v.pairId()).put("choice", v.choice())
                .put("annotator", v.annotator()).put("idempotency_key", v.key());
    }

    @Override
    public void close() {
        vertx.close().await();
    }
}
