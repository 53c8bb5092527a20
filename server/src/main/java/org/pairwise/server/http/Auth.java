package org.pairwise.server.http;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.Optional;
import org.pairwise.server.auth.AnonymousIdentity;
import org.pairwise.server.auth.Credentials;
import org.pairwise.server.auth.FailedAuthLimiter;
import org.pairwise.server.auth.Principal;
import org.pairwise.server.auth.Role;
import org.pairwise.server.auth.Secrets;
import org.pairwise.server.auth.Tokens;
import org.pairwise.server.http.RouteTable.Access;
import org.pairwise.server.store.AccountStore;
import org.pairwise.server.store.AccountStore.Account;

/**
 * Who a request comes from, and whether that one may call the route ({@link RouteTable}). A bearer token names its
 * holder (admin, annotator or viewer) in every mode; without one, open mode makes the browser an anonymous
 * annotator by its identity cookie (issued here when missing), accounts mode knows the browser by its session cookie
 * ({@link AccountsApi} sets it), and token mode knows nobody. In accounts mode an account's own bearer token works
 * too, and accounts are looked up in the store on every request, so a disabled or deleted account is refused from
 * the next request on. A wrong token or session counts against its client in the {@link FailedAuthLimiter}; while
 * that client is limited, every credential it presents is refused unchecked.
 *
 * <p>A state-changing request authenticated by the session cookie must also carry the session's CSRF token
 * ({@value #CSRF_HEADER}, from {@code GET /api/me}). SameSite=Strict already keeps other sites' requests from
 * carrying the cookie and {@link WriteChecks} refuses their Origin; the token is the defence that holds where a
 * browser sends neither guarantee (an old one, a same-site sibling host).
 */
final class Auth {
    static final String SESSION_COOKIE = "pairwise_session";
    static final String CSRF_HEADER = "X-CSRF-Token";
    private static final String PRINCIPAL = "pairwise.principal";
    private static final String SESSION_DIGEST = "pairwise.session";
    private static final String CSRF = "pairwise.csrf";
    /** A session's last_seen_at is written at most this often (a write per request would be a write per vote). */
    private static final long TOUCH_EVERY_MS = 5 * 60_000;

    private final Credentials credentials;
    private final String mode;
    private final FailedAuthLimiter limiter;
    private final AccountStore accounts;

    Auth(Credentials credentials, String mode, FailedAuthLimiter limiter, AccountStore accounts) {
        this.credentials = credentials;
        this.mode = mode;
        this.limiter = limiter;
        this.accounts = accounts;
    }

    boolean accountsMode() {
        return mode.equals("accounts");
    }

    /** The principal {@link #require} found for this request (null on public routes). */
    static Principal principal(RoutingContext ctx) {
        return ctx.get(PRINCIPAL);
    }

    /** The digest of the session this request was authenticated by, or null (a token, open mode). */
    static String sessionDigest(RoutingContext ctx) {
        return ctx.get(SESSION_DIGEST);
    }

    static Principal principal(Account a) {
        return new Principal(a.name(), Role.valueOf(a.role().toUpperCase(java.util.Locale.ROOT)));
    }

    Handler<RoutingContext> require(Access access) {
        return ctx -> {
            if (access == Access.PUBLIC) {
                ctx.next();
                return;
            }
            Future<Principal> found = authenticate(ctx, access);
            if (found.isComplete()) {
                decide(ctx, access, found);
                return;
            }
            // Looked up in the store: hold the body back until the handlers that read it are in place.
            HttpServerRequest req = ctx.request();
            if (!req.isEnded()) {
                req.pause();
            }
            found.onComplete(ar -> {
                if (!req.isEnded()) {
                    req.resume();
                }
                decide(ctx, access, found);
            });
        };
    }

    private void decide(RoutingContext ctx, Access access, Future<Principal> found) {
        if (found.failed()) {
            ctx.fail(found.cause());
            return;
        }
        Principal p = found.result();
        if (access == Access.ADMIN && p.role() != Role.ADMIN) {
            ctx.fail(new ApiError(401, "admin token required (Authorization: Bearer TOKEN); this one is "
                    + p.role().wire() + " " + p.name() + "'s"));
        } else if (access == Access.VOTER && !p.role().votes()) {
            ctx.fail(new ApiError(403, p.name() + " is a viewer: viewers read the dashboard and cannot vote"));
        } else if (access == Access.READER && !p.role().readsEveryone()) {
            ctx.fail(new ApiError(403, "per-annotator figures are for viewers and the admin; " + p.name()
                    + " is an annotator"));
        } else if (ctx.get(CSRF) != null && ctx.request().method() == HttpMethod.POST
                && !Secrets.same(ctx.request().getHeader(CSRF_HEADER), ctx.get(CSRF))) {
            ctx.fail(new ApiError(403, "this request needs the session's CSRF token in the " + CSRF_HEADER
                    + " header (the csrf_token of GET /api/me); the pages send it"));
        } else {
            ctx.put(PRINCIPAL, p);
            ctx.next();
        }
    }

    /** GET /api/me: who the server takes this browser or token for. */
    void me(RoutingContext ctx) {
        Principal p = principal(ctx);
        JsonObject me = new JsonObject().put("annotator", p.name()).put("role", p.role().wire())
                .put("annotation", mode);
        if (ctx.get(CSRF) != null) {
            me.put("csrf_token", (String) ctx.get(CSRF));
        }
        Responses.json(ctx, 200, me);
    }

    /** The client a request counts against in the limiter; 0 or the seconds it must wait (Retry-After set). */
    long limited(RoutingContext ctx) {
        long wait = limiter.retryAfterSeconds(client(ctx));
        if (wait > 0) {
            ctx.response().putHeader("Retry-After", Long.toString(wait));
        }
        return wait;
    }

    void failed(RoutingContext ctx) {
        limiter.failed(client(ctx));
    }

    private static String client(RoutingContext ctx) {
        HttpServerRequest req = ctx.request();
        return FailedAuthLimiter.clientOf(req.remoteAddress() == null ? null : req.remoteAddress().hostAddress());
    }

    private Future<Principal> authenticate(RoutingContext ctx, Access access) {
        HttpServerRequest req = ctx.request();
        String header = req.getHeader("Authorization");
        String session = accountsMode() ? cookie(ctx, SESSION_COOKIE) : null;
        if (header == null && session == null) {
            if (mode.equals("open") && access != Access.ADMIN) {
                return Future.succeededFuture(anonymous(ctx));
            }
            // The mode in the detail: a page that meets this knows to ask for an invite link rather than a token.
            return Future.failedFuture(new ApiError(401, access == Access.ADMIN
                    ? "admin token required (Authorization: Bearer TOKEN)" : accountsMode()
                    ? "sign in first: open the invite link the admin gave you (or send Authorization: Bearer TOKEN)"
                    : "a token is required (Authorization: Bearer TOKEN): this server runs in token mode",
                    new JsonObject().put("annotation", mode)));
        }
        long wait = limited(ctx);
        if (wait > 0) {
            return Future.failedFuture(new ApiError(429, "too many wrong tokens from this address; try again in "
                    + wait + " s"));
        }
        if (header == null) {
            return bySession(ctx, session);
        }
        String token = Tokens.bearer(header);
        Principal p = token == null || token.isEmpty() ? null : credentials.byBearer(token);
        if (p != null) {
            return Future.succeededFuture(p);
        }
        ApiError wrong = new ApiError(401, token == null ? "only bearer tokens are accepted (Authorization: Bearer "
                + "TOKEN)" : access == Access.ADMIN ? "invalid admin token" : "invalid token");
        if (!accountsMode() || !Secrets.wellFormed(token)) {
            failed(ctx);
            return Future.failedFuture(wrong);
        }
        return Future.fromCompletionStage(accounts.byToken(Secrets.digest(token)), ctx.vertx().getOrCreateContext())
                .compose(a -> a.isPresent() ? Future.succeededFuture(principal(a.get())) : refuse(ctx, wrong));
    }

    private Future<Principal> bySession(RoutingContext ctx, String secret) {
        ApiError ended = new ApiError(401, "your session has ended (signed out, expired, or the account was "
                + "disabled): open a new invite link from the admin", new JsonObject().put("annotation", mode));
        if (!Secrets.wellFormed(secret)) {
            clearSession(ctx);
            return refuse(ctx, ended);
        }
        String digest = Secrets.digest(secret);
        return Future.fromCompletionStage(accounts.session(digest), ctx.vertx().getOrCreateContext())
                .compose((Optional<AccountStore.Session> s) -> {
                    if (s.isEmpty()) {
                        clearSession(ctx);
                        return refuse(ctx, ended);
                    }
                    if (System.currentTimeMillis() - s.get().lastSeenAtMillis() > TOUCH_EVERY_MS) {
                        accounts.touchSession(digest);  // best effort: the session is valid either way
                    }
                    ctx.put(SESSION_DIGEST, digest);
                    ctx.put(CSRF, csrfToken(secret));
                    return Future.succeededFuture(principal(s.get().account()));
                });
    }

    private Future<Principal> refuse(RoutingContext ctx, ApiError why) {
        failed(ctx);
        return Future.failedFuture(why);
    }

    static String csrfToken(String sessionSecret) {
        return Secrets.derive("csrf", sessionSecret);
    }

    /** Sets the session cookie: HttpOnly (no script reads it), SameSite=Strict, Secure when served over TLS. */
    static void setSession(RoutingContext ctx, String secret, long maxAgeSeconds) {
        ctx.response().addCookie(Cookie.cookie(SESSION_COOKIE, secret).setPath("/").setMaxAge(maxAgeSeconds)
                .setHttpOnly(true).setSameSite(CookieSameSite.STRICT).setSecure(ctx.request().isSSL()));
    }

    /** Tells the browser to drop its session cookie, so it stops presenting one that opens nothing. */
    static void clearSession(RoutingContext ctx) {
        setSession(ctx, "", 0);
    }

    static String cookie(RoutingContext ctx, String name) {
        try {
            Cookie c = ctx.request().getCookie(name);
            return c == null ? null : c.getValue();
        } catch (RuntimeException e) {
            return null;  // a Cookie header the decoder cannot read carries no credential
        }
    }

    /** The browser's anonymous annotator: from its identity cookie, or a new one set on this response. */
    private static Principal anonymous(RoutingContext ctx) {
        String secret = cookie(ctx, AnonymousIdentity.COOKIE);
        if (!AnonymousIdentity.wellFormed(secret)) {
            secret = AnonymousIdentity.newSecret();
            ctx.response().addCookie(Cookie.cookie(AnonymousIdentity.COOKIE, secret).setPath("/")
                    .setMaxAge(AnonymousIdentity.MAX_AGE_SECONDS).setHttpOnly(true)
                    .setSameSite(CookieSameSite.STRICT).setSecure(ctx.request().isSSL()));
        }
        return AnonymousIdentity.principal(secret);
    }
}
