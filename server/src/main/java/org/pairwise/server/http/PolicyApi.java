package org.pairwise.server.http;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.pairwise.server.gen.PairPool;
import org.pairwise.server.train.PublishedPolicies;
import org.pairwise.server.train.TrainerLoop;

/**
 * The policy versions: GET /api/policy (viewers and the admin: the served version, the kept versions, the pins, the
 * guard's state); admin only, JSON bodies: POST /api/policy/pin {version, name} keeps a version for battles under a
 * name (a name pinned again moves), POST /api/policy/unpin {name}, POST /api/policy/rollback {version} serves a kept
 * version from the next generation on and holds publishing, POST /api/policy/release lets publishing go on (after a
 * rollback or a guard trip). File work runs on the I/O executor.
 */
final class PolicyApi {
    /** What a pin's name may be: it is shown on the dashboard and stored in pins.json. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    private final ApiServices services;
    private final PublishedPolicies policies;
    private final TrainerLoop trainer;
    private final PairPool pool;
    private final Executor io;
    private final Context context;

    PolicyApi(ApiServices s, Context context) {

        this.services = s;
        this.policies = s.policies();
        this.trainer = s.trainer();
        this.pool = s.pool();
        this.io = s.io();
        this.context = context;
    }

    void status(RoutingContext ctx) {
        blocking(ctx, () -> {
            JsonObject pins = new JsonObject();
            files(() -> policies.pins()).forEach(pins::put);
            return new JsonObject().put("served_version", pool.policyVersion())
                    .put("published_version", services.trainerStatus().getInteger("policy_version"))
                    .put("kept", new JsonArray(files(policies::kept))).put("pins", pins)
                    .put("guard", services.trainerStatus().getJsonObject("guard"));
        });
    }

    /**
     * Pins, rollbacks and releases change the trainer's state, which lives on the node that trains: another node of
     * a cluster refuses them and names that node.
     */
    private void onTheTrainer() {
        var cluster = services.cluster();
        if (cluster != null && !cluster.training()) {
            String trainer = cluster.trainerUrl();
            throw new ApiError(409, "this node does not train: send this to the node that does"
                    + (trainer == null ? " (none does right now)" : ", " + trainer));
        }
    }

    void pin(RoutingContext ctx) {
        onTheTrainer();
        JsonObject body = Responses.object(ctx);
        int version = version(body);
        String name = Responses.requiredString(body, "name", 64);
        if (!NAME.matcher(name).matches()) {
            throw ApiError.badRequest("name must be 1-64 letters, digits, '.', '_' or '-', starting with a letter "
                    + "or digit");
        }
        blocking(ctx, () -> {
            files(() -> {
                policies.pin(name, version);
                return null;
            });
            return new JsonObject().put("pinned", name).put("policy_version", version);
        });
    }

    void unpin(RoutingContext ctx) {
        onTheTrainer();
        String name = Responses.requiredString(Responses.object(ctx), "name", 64);
        blocking(ctx, () -> {
            if (!files(() -> policies.unpin(name))) {
                throw new ApiError(404, "no pin named '" + name + "'");
            }
            return new JsonObject().put("unpinned", name);
        });
    }

    void rollback(RoutingContext ctx) {
        onTheTrainer();
        int version = version(Responses.object(ctx));
        blocking(ctx, () -> files(() -> trainer.rollBack(version, "the admin")));
    }

    void release(RoutingContext ctx) {
        onTheTrainer();
        blocking(ctx, () -> files(trainer::release));
    }

    private static int version(JsonObject body) {
        Object v = body.getValue("version");
        if (!(v instanceof Integer i) || i < 0) {
            throw ApiError.badRequest("version is required (a policy version number, >= 0)");
        }
        return i;
    }

    private interface FileWork<T> {
        T run() throws IOException;
    }

    private static <T> T files(FileWork<T> work) {
        try {
            return work.run();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
    }

    private void blocking(RoutingContext ctx, Supplier<JsonObject> work) {
        Future.fromCompletionStage(CompletableFuture.supplyAsync(work, io), context)
                .onSuccess(r -> Responses.json(ctx, 200, r)).onFailure(ctx::fail);
    }
}
