package org.pairwise.server.http;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.HashSet;
import java.util.Set;
import org.pairwise.server.http.RouteTable.Route;

/**
 * Mounts the rows of {@link RouteTable} on a router, each behind its checks: for a POST the same-site check, then
 * who may call it, then for a POST the body's type (all before a byte of the body is read) and the body, then the
 * handler.
 */
final class Binder {
    private final Router router;
    private final Auth auth;
    private final WriteChecks writes;
    private final BodyHandler body;
    private final ConnectionGuard guard;
    private final Set<Route> bound = new HashSet<>();

    Binder(Router router, Auth auth, WriteChecks writes, BodyHandler body, ConnectionGuard guard) {
        this.router = router;
        this.auth = auth;
        this.writes = writes;
        this.body = body;
        this.guard = guard;
    }

    void route(HttpMethod method, String path, Handler<RoutingContext> handler) {
        Route row = RouteTable.route(method, path);
        bound.add(row);
        if (method == HttpMethod.POST) {
            router.route(method, path).handler(writes.sameSite()).handler(auth.require(row.access()))
                    .handler(writes.body(row.body())).handler(ctx -> {
                        guard.expectBody(ctx.request());
                        ctx.next();
                    });
            // Its own route: Vert.x Web wants the body handler first on the route it is on.
            router.route(method, path).handler(body).handler(ctx -> {
                guard.bodyRead(ctx.request());
                ctx.next();
            }).handler(handler);
        } else {
            router.route(method, path).handler(auth.require(row.access())).handler(handler);
        }
    }

    /** After the routes: other methods on their paths get 405 with Allow; unknown API paths 404. */
    void methodsAndUnknownRoutes() {
        for (String path : RouteTable.paths()) {
            if (bound.stream().anyMatch(r -> r.path().equals(path))) {
                String allow = RouteTable.allow(path);
                router.route(path).handler(ctx -> {
                    ctx.response().putHeader("Allow", allow);
                    ctx.fail(new ApiError(405, "method not allowed: " + path + " takes " + allow));
                });
            }
        }
        router.route("/api/*").handler(ctx -> ctx.fail(404));
    }
}
