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
import org.pairwise.server.auth.ConfiguredTokens;
import org.pairwise.server.auth.FailedAuthLimiter;
import org.pairwise.server.config.ServeConfig;
import org.pairwise.server.quality.QualityService;

/**
 * The event-loop verticle: the REST API, the Server-Sent Events stream, Prometheus metrics and the static pages.
 * Handlers are thin and never block; blocking work goes to the services' own threads or the I/O executor. Every
 * request passes {@link FrontDoor} and {@link ConnectionGuard} first; every API route is a row of {@link RouteTable}.
 */
public final class HttpVerticle extends VerticleBase {
    private final ApiServices s;
    /** Failed-authentication buckets kept at most: about 100 bytes each. */
    private static final int LIMITED_CLIENTS = 100_000;

    private EventStream events;
    private ConnectionGuard guard;
    private long sweep = -1;
    private HttpServer server;

    public HttpVerticle(ApiServices services) {
        this.s = services;
    }

    @Override
    public Future<?> start() {
        ServeConfig cfg = s.config();
        Auth auth = new Auth(new ConfiguredTokens(s.adminToken(), cfg.annotatorTokens(), cfg.viewerTokens()),
                cfg.annotation(), new FailedAuthLimiter(cfg.authFailuresPerMinute(), LIMITED_CLIENTS,
                System::nanoTime), s.store().accounts());

        WriteChecks writes = new WriteChecks(cfg.cors());
        Failures failures = new Failures(cfg.maxBodyBytes());
        PairsApi pairs = new PairsApi(s.pool(), s.store(), cfg, context);
        VotesApi votes = new VotesApi(s.store(), vertx.eventBus(), s.metrics(), context, cfg.undoWindow() * 1000L);
        StatsApi stats = new StatsApi(s, votes, context);
        CampaignApi campaign = new CampaignApi(s.store(), cfg, s.io(), context);
        QualityApi quality = new QualityApi(new QualityService(s.store(), s.io(), cfg.flagRule()),
                s.store().quality(), cfg.excludeFlagged(), context);
        LeaderboardApi leaderboard = new LeaderboardApi(s, context);
        PolicyApi policy = new PolicyApi(s, context);
        AdminApi admin = new AdminApi(s.store(), s.pool(), s.policies(), vertx.eventBus(), s.io(), context,
                !s.config().aggregation().equals("each"));
        events = new EventStream();
        events.start(vertx);
        AccountsApi accounts = new AccountsApi(s.store().accounts(), auth, context, configuredNames(cfg),
                events::endFor);
        guard = new ConnectionGuard(cfg.headerTimeoutMs(), cfg.idleTimeoutMs(), cfg.bodyTimeoutMs(),
                cfg.maxConnections());
        sweep = vertx.setPeriodic(1000, id -> guard.sweep());

        Router router = Router.router(vertx);
        if (!cfg.cors().equals("off")) {
            router.route().handler(writes.crossOrigin(CorsHandler.create().addOrigin(cfg.cors())
                    .allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST))
                    .allowedHeaders(Set.of("Content-Type", "Authorization", "Accept"))));
        }
        BodyHandler body = BodyHandler.create(cfg.dataPath().resolve("uploads").toString())
                .setBodyLimit(cfg.maxBodyBytes()).setDeleteUploadedFilesOnEnd(true);
        Binder bind = new Binder(router, auth, writes, body, guard);
        bind.route(HttpMethod.GET, "/api/me", auth::me);
        bind.route(HttpMethod.GET, "/api/pairs/next", pairs::next);
        bind.route(HttpMethod.POST, "/api/pairs", pairs::create);
        bind.route(HttpMethod.POST, "/api/pairs/continue", pairs::continueConversation);
        bind.route(HttpMethod.POST, "/api/preferences", votes::record);
        bind.route(HttpMethod.GET, "/api/votes/latest", votes::latest);
        bind.route(HttpMethod.GET, "/api/stats", stats::stats);
        bind.route(HttpMethod.GET, "/api/training/metrics", stats::trainingMetrics);
        bind.route(HttpMethod.GET, "/api/events", events::handle);
        bind.route(HttpMethod.GET, "/api/quality", quality::report);
        bind.route(HttpMethod.GET, "/api/quality/pairs", quality::pairs);
        bind.route(HttpMethod.GET, "/api/quality/pair", quality::pair);
        bind.route(HttpMethod.POST, "/api/prompts", admin::uploadPrompts);
        bind.route(HttpMethod.GET, "/api/export", admin::export);
        bind.route(HttpMethod.GET, "/api/adapter", admin::adapter);
        bind.route(HttpMethod.POST, "/api/trainer/pause", ctx -> admin.trainer(ctx, "pause"));
        bind.route(HttpMethod.POST, "/api/trainer/resume", ctx -> admin.trainer(ctx, "resume"));
        bind.route(HttpMethod.GET, "/metrics", PrometheusScrapingHandler.create(s.registry()));
        bind.route(HttpMethod.POST, "/api/preferences/change", campaign::change);
        bind.route(HttpMethod.POST, "/api/preferences/withdraw", campaign::withdraw);
        bind.route(HttpMethod.POST, "/api/skips", campaign::skip);
        bind.route(HttpMethod.POST, "/api/pair-flags", campaign::flagPair);
        bind.route(HttpMethod.POST, "/api/gold", campaign::uploadGold);
        bind.route(HttpMethod.GET, "/api/quality/flags", campaign::flags);
        bind.route(HttpMethod.POST, "/api/quality/flags", campaign::setFlag);
        bind.route(HttpMethod.GET, "/api/annotators", accounts::list);
        bind.route(HttpMethod.POST, "/api/annotators", accounts::create);
        bind.route(HttpMethod.POST, "/api/annotators/status", accounts::setStatus);
        bind.route(HttpMethod.POST, "/api/annotators/token", accounts::newToken);
        bind.route(HttpMethod.POST, "/api/invites", accounts::invite);
        bind.route(HttpMethod.POST, "/api/session", accounts::signIn);
        bind.route(HttpMethod.POST, "/api/session/end", accounts::signOut);
        bind.route(HttpMethod.GET, "/api/guidelines", accounts::guidelines);
        bind.route(HttpMethod.POST, "/api/guidelines", accounts::writeGuidelines);
        bind.route(HttpMethod.GET, "/api/progress", accounts::progress);
        bind.route(HttpMethod.GET, "/api/leaderboard", leaderboard::leaderboard);
        bind.route(HttpMethod.GET, "/api/policy", policy::status);
        bind.route(HttpMethod.POST, "/api/policy/pin", policy::pin);
        bind.route(HttpMethod.POST, "/api/policy/unpin", policy::unpin);
        bind.route(HttpMethod.POST, "/api/policy/rollback", policy::rollback);
        bind.route(HttpMethod.POST, "/api/policy/release", policy::release);
        if (cfg.benchRoute()) {
            // The framework's ceiling on this server, for load tests: routed like the API, but no work behind it.
            Buffer constant = Buffer.buffer("{\"ok\":true}");
            bind.route(HttpMethod.GET, "/api/bench/constant", ctx -> ctx.response()
                    .putHeader("Content-Type", "application/json; charset=utf-8").end(constant));
        }
        bind.methodsAndUnknownRoutes();

        router.route("/webjars/*").method(HttpMethod.GET).method(HttpMethod.HEAD)
                .handler(StaticHandler.create("META-INF/resources/webjars"));
        router.route("/*").method(HttpMethod.GET).method(HttpMethod.HEAD)
                .handler(StaticHandler.create("webroot").setIndexPage("index.html"));
        router.route().handler(ctx -> {
            if (ctx.request().method() == HttpMethod.GET || ctx.request().method() == HttpMethod.HEAD) {
                ctx.fail(404);
            } else {
                ctx.response().putHeader("Allow", "GET, HEAD");
                ctx.fail(new ApiError(405, "method not allowed: pages take GET and HEAD"));
            }
        });

        router.route().failureHandler(failures::handle);
        for (int status : new int[] {400, 404, 405, 413, 500}) {
            router.errorHandler(status, failures::handle);  // failures the router raises before any route runs
        }
        // No h2c: browsers never use it, and every connection then goes through the HTTP/1.x checks here.
        return vertx.createHttpServer(new HttpServerOptions().setHost(cfg.host()).setPort(cfg.port())
                        .setHttp2ClearTextEnabled(false))
                .connectionHandler(guard::connected)
                .invalidRequestHandler(FrontDoor::invalid)
                // With a handshake handler set, Vert.x hands requests of unknown HTTP versions to FrontDoor (400)
                // instead of answering 501 itself; there are no WebSocket routes.
                .webSocketHandshakeHandler(h -> h.reject(404))
                .requestHandler(new FrontDoor(router, guard))
                .listen().onSuccess(srv -> server = srv);
    }

    @Override
    public Future<?> stop() {
        vertx.cancelTimer(sweep);
        events.stop(vertx);
        return server == null ? Future.succeededFuture() : server.close();
    }

    /** The names of the configured tokens: no account may take one (two people would vote as one name). */
    private static Set<String> configuredNames(ServeConfig cfg) {
        Set<String> names = new java.util.HashSet<>();
        for (String e : cfg.annotatorTokens()) {
            names.add(e.substring(0, e.indexOf(':')));
        }
        for (String e : cfg.viewerTokens()) {
            names.add(e.substring(0, e.indexOf(':')));
        }
        return names;
    }

    public int actualPort() {
        return server.actualPort();
    }
}
