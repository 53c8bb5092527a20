package org.pairwise.server.http;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.CorsHandler;
import io.vertx.ext.web.handler.StaticHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import java.util.Set;
import org.pairwise.server.config.ServeConfig;

/**
 * The event-loop verticle: the REST API, the Server-Sent Events stream, Prometheus metrics and the static pages.
 * Handlers are thin and never block; blocking work goes to the services' own threads or the I/O executor.
 */
public final class HttpVerticle extends VerticleBase {
    private final ApiServices s;
    private EventStream events;
    private HttpServer server;

    public HttpVerticle(ApiServices services) {
        this.s = services;
    }

    @Override
    public Future<?> start() {
        ServeConfig cfg = s.config();
        Auth auth = new Auth(s.adminToken(), cfg.annotation().equals("token"), cfg.annotatorTokens());
        Failures failures = new Failures(cfg.maxBodyBytes());
        PairsApi pairs = new PairsApi(s.pool(), context, cfg.poolSize());
        VotesApi votes = new VotesApi(s.store(), vertx.eventBus(), s.metrics(), context);
        StatsApi stats = new StatsApi(s.store(), s.pool(), s.trainer(), votes, cfg.poolSize(), context);
        AdminApi admin = new AdminApi(s.store(), s.pool(), s.policies(), vertx.eventBus(), s.io(), context);
        events = new EventStream();
        events.start(vertx);

        Router router = Router.router(vertx);
        if (!cfg.cors().equals("off")) {
            router.route().handler(CorsHandler.create().addOrigin(cfg.cors())
                    .allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST))
                    .allowedHeaders(Set.of("Content-Type", "Authorization", "Accept")));
        }
        if (cfg.benchRoute()) {
            // The framework's ceiling on this server, for load tests: routed like the API, but no work behind it.
            Buffer constant = Buffer.buffer("{\"ok\":true}");
            router.get("/api/bench/constant").handler(ctx -> ctx.response()
                    .putHeader("Content-Type", "application/json; charset=utf-8").end(constant));
        }
        // Only POSTs carry bodies; a GET through the body handler would pay for buffering it has nothing to buffer.
        router.post("/api/*").handler(BodyHandler.create(cfg.dataPath().resolve("uploads").toString())
                .setBodyLimit(cfg.maxBodyBytes()).setDeleteUploadedFilesOnEnd(true));

        router.get("/api/pairs/next").handler(auth::annotator).handler(pairs::next);
        router.post("/api/pairs").handler(auth::annotator).handler(pairs::create);
        router.post("/api/preferences").handler(auth::annotator).handler(votes::record);
        router.get("/api/votes/latest").handler(votes::latest);
        router.get("/api/stats").handler(stats::stats);
        router.get("/api/training/metrics").handler(stats::trainingMetrics);
        router.get("/api/events").handler(events::handle);

        router.post("/api/prompts").handler(auth::admin).handler(admin::uploadPrompts);
        router.get("/api/export").handler(auth::admin).handler(admin::export);
        router.get("/api/adapter").handler(auth::admin).handler(admin::adapter);
        router.post("/api/trainer/pause").handler(auth::admin).handler(ctx -> admin.trainer(ctx, "pause"));
        router.post("/api/trainer/resume").handler(auth::admin).handler(ctx -> admin.trainer(ctx, "resume"));
        router.get("/metrics").handler(auth::admin).handler(PrometheusScrapingHandler.create(s.registry()));

        router.route("/webjars/*").handler(StaticHandler.create("META-INF/resources/webjars"));
        router.route("/*").handler(StaticHandler.create("webroot").setIndexPage("index.html"));

        router.route().failureHandler(failures::handle);
        for (int status : new int[] {400, 404, 405, 413, 500}) {
            router.errorHandler(status, failures::handle);  // failures the router raises before any route runs
        }
        return vertx.createHttpServer(new HttpServerOptions().setHost(cfg.host()).setPort(cfg.port()))
                .requestHandler(router).listen().onSuccess(srv -> server = srv);
    }

    @Override
    public Future<?> stop() {
        events.stop(vertx);
        return server == null ? Future.succeededFuture() : server.close();
    }

    public int actualPort() {
        return server.actualPort();
    }
}
