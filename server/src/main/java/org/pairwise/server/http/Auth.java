package org.pairwise.server.http;

import io.vertx.core.Handler;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.pairwise.server.auth.AnonymousIdentity;
import org.pairwise.server.auth.Credentials;
import org.pairwise.server.auth.FailedAuthLimiter;
import org.pairwise.server.auth.Principal;
import org.pairwise.server.auth.Role;
import org.pairwise.server.auth.Tokens;
import org.pairwise.server.http.RouteTable.Access;

/**
 * Who a request comes from, and whether that one may call the route ({@link RouteTable}). A bearer token names its
 * holder (admin, annotator or viewer) in every mode; without one, open mode makes the browser an anonymous
 * annotator by its identity cookie (issued here when missing) and token mode knows nobody. A wrong token counts
 * against its client in the {@link FailedAuthLimiter}; while that client is limited, every token it presents is
 * refused unchecked.
 */
final class Auth {
    private static final String PRINCIPAL = "pairwise.principal";

    private final Credentials credentials;
    private final boolean openMode;
    private final FailedAuthLimiter limiter;

    Auth(Credentials credentials, boolean openMode, FailedAuthLimiter limiter) {
        this.credentials = credentials;
        this.openMode = openMode;
        this.limiter = limiter;
    }

    /** The principal {@link #require} found for this request (null on public routes). */
    static Principal principal(RoutingContext ctx) {
        return ctx.get(PRINCIPAL);
    }

    Handler<RoutingContext> require(Access access) {
        return ctx -> {
            if (access == Access.PUBLIC) {
                ctx.next();
                return;
            }
            Principal p = authenticate(ctx, access);
            if (p == null) {
                return;  // failed with 401 or 429
            }
            if (access == Access.ADMIN && p.role() != Role.ADMIN) {
                ctx.fail(new ApiError(401, "admin token required (Authorization: Bearer TOKEN); this one is "
                        + p.role().wire() + " " + p.name() + "'s"));
            } else if (access == Access.VOTER && !p.role().votes()) {
                ctx.fail(new ApiError(403, p.name() + " is a viewer: viewers read the dashboard and cannot vote"));
            } else {
                ctx.put(PRINCIPAL, p);
                ctx.next();
            }
        };
    }

    /** GET /api/me: who the server takes this browser or token for. */
    void me(RoutingContext ctx) {
        Principal p = principal(ctx);
        Responses.json(ctx, 200, new JsonObject().put("annotator", p.name()).put("role", p.role().wire())
                .put("annotation", openMode ? "open" : "token"));
    }

    private Principal authenticate(RoutingContext ctx, Access access) {
        HttpServerRequest req = ctx.request();
        String header = req.getHeader("Authorization");
        if (header == null) {
            if (openMode && access != Access.ADMIN) {
                return anonymous(ctx);
            }
            ctx.fail(new ApiError(401, access == Access.ADMIN
                    ? "admin token required (Authorization: Bearer TOKEN)"
                    : "a token is required (Authorization: Bearer TOKEN): this server runs in token mode"));
            return null;
        }
        String client = FailedAuthLimiter.clientOf(req.remoteAddress() == null ? null
                : req.remoteAddress().hostAddress());
        long wait = limiter.retryAfterSeconds(client);
        if (wait > 0) {
            ctx.response().putHeader("Retry-After", Long.toString(wait));
            ctx.fail(new ApiError(429, "too many wrong tokens from this address; try again in " + wait + " s"));
            return null;
        }
        String token = Tokens.bearer(header);
        Principal p = token == null || token.isEmpty() ? null : credentials.byBearer(token);
        if (p == null) {
            limiter.failed(client);
            ctx.fail(new ApiError(401, token == null ? "only bearer tokens are accepted (Authorization: Bearer "
                    + "TOKEN)" : access == Access.ADMIN ? "invalid admin token" : "invalid token"));
        }
        return p;
    }

    /** The browser's anonymous annotator: from its identity cookie, or a new one set on this response. */
    private static Principal anonymous(RoutingContext ctx) {
        String secret = null;
        try {
            Cookie c = ctx.request().getCookie(AnonymousIdentity.COOKIE);
            secret = c == null ? null : c.getValue();
        } catch (RuntimeException e) {
            // A Cookie header the decoder cannot read is no identity; the browser gets a new one.
        }
        if (!AnonymousIdentity.wellFormed(secret)) {
            secret = AnonymousIdentity.newSecret();
            ctx.response().addCookie(Cookie.cookie(AnonymousIdentity.COOKIE, secret).setPath("/")
                    .setMaxAge(AnonymousIdentity.MAX_AGE_SECONDS).setHttpOnly(true)
                    .setSameSite(CookieSameSite.STRICT).setSecure(ctx.request().isSSL()));
        }
        return AnonymousIdentity.principal(secret);
    }
}
