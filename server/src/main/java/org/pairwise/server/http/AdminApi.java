package org.pairwise.server.http;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.pairwise.server.Addresses;
import org.pairwise.server.gen.PairPool;
import org.pairwise.server.gen.PromptSet;
import org.pairwise.server.store.PreferenceStore;
import org.pairwise.server.train.PublishedPolicies;

/** The admin routes (behind {@link Auth#admin}): prompt upload, export, adapter download, trainer pause/resume. */
final class AdminApi {
    private static final List<String> FORMATS = List.of("standard", "conversational", "raw", "battles");
    private static final List<String> LABELS = List.of("votes", "aggregated");
    /** States in which a pause has taken effect (or never will: the trainer ended). */
    private static final Set<String> PAUSED_OR_DONE = Set.of("paused", "stopped", "failed");
    private static final long SETTLE_MS = 3000;

    private final PreferenceStore store;
    private final PairPool pool;
    private final PublishedPolicies policies;
    private final EventBus bus;
    private final Executor io;
    private final Context context;
    /** Whether the TRL export gives the aggregated labels unless asked otherwise (aggregation majority or soft). */
    private final boolean aggregatesByDefault;

    AdminApi(PreferenceStore store, PairPool pool, PublishedPolicies policies, EventBus bus, Executor io,
             Context context, boolean aggregatesByDefault) {
        this.aggregatesByDefault = aggregatesByDefault;
        this.store = store;
        this.pool = pool;
        this.policies = policies;
        this.bus = bus;
        this.io = io;
        this.context = context;
    }

    /** POST /api/prompts: a JSONL or text body, or the first file of a multipart upload. */
    void uploadPrompts(RoutingContext ctx) {
        uploaded(ctx).compose(buf -> Future.fromCompletionStage(CompletableFuture.supplyAsync(() -> {
            // Tokenizing every prompt to validate it is CPU work: off the event loop.
            try {
                return pool.addPrompts(PromptSet.parse(buf.toString(StandardCharsets.UTF_8), "upload"));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            } catch (java.util.concurrent.ExecutionException e) {
                throw new java.util.concurrent.CompletionException(e.getCause());
            }
        }, io), context))
                .onSuccess(n -> Responses.json(ctx, 201, new JsonObject().put("added", n)
                        .put("prompts", pool.promptCount())))
                .onFailure(ctx::fail);
    }

    /** An upload's content: the request body, or the first file of a multipart upload. */
    static Future<Buffer> uploaded(RoutingContext ctx) {
        return ctx.fileUploads().isEmpty()
                ? Future.succeededFuture(ctx.body().buffer() == null ? Buffer.buffer() : ctx.body().buffer())
                : ctx.vertx().fileSystem().readFile(ctx.fileUploads().getFirst().uploadedFileName());
    }

    /**
     * GET /api/export?format=standard|conversational|raw|battles[&labels=votes|aggregated]: TRL JSONL of the A/B
     * votes or of the training labels aggregation decided (the default under majority and soft), or (raw) every vote,
     * skip and pair flag with who, when and on what, or (battles) every vote on a battle with both sides' policy
     * versions; streamed. The TRL formats never include battles unless train_on_battles made labels of them.
     */
    void export(RoutingContext ctx) {
        String format = Responses.query(ctx, "format") == null ? "standard" : Responses.query(ctx, "format");
        if (!FORMATS.contains(format)) {
            throw ApiError.badRequest("format must be standard, conversational, raw or battles, got '" + format
                    + "'");
        }
        String labels = Responses.query(ctx, "labels");
        if (labels != null && !LABELS.contains(labels)) {
            throw ApiError.badRequest("labels must be votes or aggregated, got '" + labels + "'");
        }
        boolean aggregated = labels == null ? aggregatesByDefault : labels.equals("aggregated");
        boolean trl = !format.equals("raw") && !format.equals("battles");
        String name = "preferences-" + format + (aggregated && trl ? "-aggregated" : "") + ".jsonl";
        BlockingStream.pipe(ctx, context, io, "application/jsonl; charset=utf-8", name,
                out -> {
                    Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
                    if (format.equals("raw")) {
                        store.exportRaw(w);
                    } else if (format.equals("battles")) {
                        store.exportBattles(w);
                    } else {
                        store.exportTrl(format, aggregated, w);
                    }
                    w.flush();
                });
    }

    /** GET /api/adapter: the adapter the generator samples from now, as a PEFT zip. */
    void adapter(RoutingContext ctx) {
        int version = pool.policyVersion();
        Path dir = policies.existing(version);
        if (dir == null) {
            throw new ApiError(404, "no adapter yet: policy version " + version + " is the base model",
                    new JsonObject().put("policy_version", version));
        }
        BlockingStream.pipe(ctx, context, io, "application/zip", "pairwise-adapter-v" + version + ".zip", out -> {
            try (ZipOutputStream zip = new ZipOutputStream(out)) {
                for (String name : List.of("adapter_config.json", "adapter_model.safetensors")) {
                    zip.putNextEntry(new ZipEntry(name));
                    Files.copy(dir.resolve(name), zip);
                    zip.closeEntry();
                }
            }
        });
    }

    /**
     * POST /api/trainer/pause and /resume: answers with the trainer's status once it is in its new state. The trainer
     * changes state on its own thread, between steps: a step in progress finishes first, so after SETTLE_MS the
     * answer is the status then ({@code "paused": true} while the step ends).
     */
    void trainer(RoutingContext ctx, String command) {
        boolean pause = command.equals("pause");
        Promise<JsonObject> settled = Promise.promise();
        JsonObject[] latest = {null};
        Handler<JsonObject> seen = s -> {
            latest[0] = s;
            if (pause ? PAUSED_OR_DONE.contains(s.getString("state")) : !"paused".equals(s.getString("state"))) {
                settled.tryComplete(s);
            }
        };
        // Listening before asking: the new state may be announced before the control request is answered.
        MessageConsumer<JsonObject> states = bus.consumer(Addresses.TRAINER_STATE, m -> seen.handle(m.body()));
        long timer = ctx.vertx().setTimer(SETTLE_MS, t -> {
            if (latest[0] != null) {
                settled.tryComplete(latest[0]);
            }
        });
        bus.<JsonObject>request(Addresses.TRAINER_CONTROL, command)
                .onSuccess(m -> seen.handle(m.body()))
                .onFailure(settled::tryFail);
        settled.future().onComplete(r -> {
            states.unregister();
            ctx.vertx().cancelTimer(timer);
        }).onSuccess(s -> Responses.json(ctx, 200, s)).onFailure(ctx::fail);
    }
}
