package org.pairwise.server.http;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.pairwise.server.auth.ConfiguredTokens;
import org.pairwise.server.auth.Principal;
import org.pairwise.server.auth.Secrets;
import org.pairwise.server.store.AccountStore;
import org.pairwise.server.store.AccountStore.Account;
import org.pairwise.server.store.AccountStore.AccountConflict;
import org.pairwise.server.store.AccountStore.Redemption;
import org.pairwise.server.store.QualityStore;

/**
 * Accounts ({@code --annotation accounts}): the admin creates, lists, disables and deletes annotators, gives each an
 * invite link (a one-time code) or a bearer token for scripts; a person opens the link, the page redeems the code at
 * {@code POST /api/session} and the browser gets a session cookie. Codes, tokens and session ids are shown once and
 * stored only as digests ({@link Secrets}). Wrong codes count in the same failed-authentication limit as wrong
 * tokens. The guidelines and a person's own progress are here too, and work in every mode.
 */
final class AccountsApi {
    /** What a name may be: it ends up in the dashboard, exports and logs, so plain characters only. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    static final long DEFAULT_INVITE_SECONDS = 7 * 24 * 3600;
    private static final long MAX_INVITE_SECONDS = 90L * 24 * 3600;
    /** A session lasts 30 days; after that the person needs a new invite (or signs in with a token). */
    static final long SESSION_SECONDS = 30L * 24 * 3600;
    private static final int MAX_GUIDELINES = 100_000;

    private final AccountStore accounts;
    private final Auth auth;
    private final Context context;
    private final Set<String> reserved;
    private final Consumer<String> accessEnded;

    /** accessEnded: called on the event loop with the name of an account just disabled or deleted. */
    AccountsApi(AccountStore accounts, Auth auth, Context context, Set<String> configuredNames,
                Consumer<String> accessEnded) {
        this.accounts = accounts;
        this.auth = auth;
        this.context = context;
        this.reserved = Set.copyOf(configuredNames);
        this.accessEnded = accessEnded;
    }

    /** GET /api/annotators (admin). */
    void list(RoutingContext ctx) {
        if (off(ctx)) {
            return;
        }
        on(accounts.list()).onSuccess(all -> {
            JsonArray out = new JsonArray();
            all.forEach(a -> out.add(wire(a)));
            Responses.json(ctx, 200, new JsonObject().put("annotators", out));
        }).onFailure(ctx::fail);
    }

    /** POST /api/annotators {name, role, token}: a new active account; with token true, its bearer token (once). */
    void create(RoutingContext ctx) {
        if (off(ctx)) {
            return;
        }
        JsonObject body = Responses.object(ctx);
        String name = Responses.requiredString(body, "name", 64);
        if (!NAME.matcher(name).matches()) {
            throw ApiError.badRequest("name: 1 to 64 of letters, digits, '.', '_' and '-', starting with a letter "
                    + "or digit");
        }
        // "auto" signs the automatic quality flags: a person of that name would read as the rule.
        if (name.equals(Principal.ADMIN.name()) || name.equals(QualityStore.AUTO)
                || name.startsWith(ConfiguredTokens.RESERVED_PREFIX) || reserved.contains(name)) {
            throw new ApiError(409, "the name '" + name + "' is taken by the server or a configured token");
        }
        String role = Responses.optionalString(body, "role", 20);
        role = role == null ? "annotator" : role;
        if (!AccountStore.ROLES.contains(role)) {
            throw ApiError.badRequest("role must be one of " + String.join(", ", AccountStore.ROLES));
        }
        Object wantsToken = body.getValue("token");
        if (wantsToken != null && !(wantsToken instanceof Boolean)) {
            throw ApiError.badRequest("token must be true or false");
        }
        String token = Boolean.TRUE.equals(wantsToken) ? Secrets.newSecret() : null;
        on(accounts.create(name, role, token == null ? null : Secrets.digest(token))).onSuccess(a -> {
            JsonObject out = new JsonObject().put("annotator", wire(a));
            if (token != null) {
                out.put("token", token);
            }
            Responses.json(ctx, 201, out);
        }).onFailure(t -> fail(ctx, t));
    }

    /** POST /api/annotators/status {name, status}: enable, disable or delete (a deleted name is never reused). */
    void setStatus(RoutingContext ctx) {
        if (off(ctx)) {
            return;
        }
        JsonObject body = Responses.object(ctx);
        String name = Responses.requiredString(body, "name", 64);
        String status = Responses.requiredString(body, "status", 20);
        if (!AccountStore.STATUSES.contains(status)) {
            throw ApiError.badRequest("status must be one of " + String.join(", ", AccountStore.STATUSES));
        }
        on(accounts.setStatus(name, status)).onSuccess(a -> {
            if (a.isEmpty()) {
                ctx.fail(unknown(name));
                return;
            }
            if (!a.get().active()) {
                accessEnded.accept(name);  // streams already open end too, not only the next request
            }
            Responses.json(ctx, 200, new JsonObject().put("annotator", wire(a.get())));
        }).onFailure(t -> fail(ctx, t));
    }

    /** POST /api/annotators/token {name}: a new bearer token for scripts, shown once; the old one stops working. */
    void newToken(RoutingContext ctx) {
        if (off(ctx)) {
            return;
        }
        String name = Responses.requiredString(Responses.object(ctx), "name", 64);
        String token = Secrets.newSecret();
        on(accounts.setToken(name, Secrets.digest(token))).onSuccess(a -> {
            if (a.isEmpty()) {
                ctx.fail(unknown(name));
            } else {
                Responses.json(ctx, 200, new JsonObject().put("annotator", wire(a.get())).put("token", token));
            }
        }).onFailure(t -> fail(ctx, t));
    }

    /** POST /api/invites {name, expires_in_seconds}: a one-time code and the link that carries it, shown once. */
    void invite(RoutingContext ctx) {
        if (off(ctx)) {
            return;
        }
        JsonObject body = Responses.object(ctx);
        String name = Responses.requiredString(body, "name", 64);
        long seconds = DEFAULT_INVITE_SECONDS;
        Object given = body.getValue("expires_in_seconds");
        if (given != null) {
            if (!(given instanceof Integer || given instanceof Long) || ((Number) given).longValue() < 1
                    || ((Number) given).longValue() > MAX_INVITE_SECONDS) {
                throw ApiError.badRequest("expires_in_seconds must be an integer in 1.." + MAX_INVITE_SECONDS);
            }
            seconds = ((Number) given).longValue();
        }
        String code = Secrets.newSecret();
        long expiresAt = System.currentTimeMillis() + seconds * 1000;
        on(accounts.addInvite(name, Secrets.digest(code), expiresAt)).onSuccess(a -> {
            if (a.isEmpty()) {
                ctx.fail(unknown(name));
                return;
            }
            // In the fragment: browsers send no fragment to the server, nor in a Referer, so no log holds the code.
            String path = "/#invite=" + code;
            String origin = (ctx.request().isSSL() ? "https://" : "http://") + ctx.request().authority();
            Responses.json(ctx, 201, new JsonObject().put("annotator", wire(a.get())).put("code", code)
                    .put("path", path).put("link", origin + path).put("expires_at", expiresAt));
        }).onFailure(t -> fail(ctx, t));
    }

    /**
     * POST /api/session {code} or {token}: redeems an invite code (once) or signs in with an account's token, and
     * sets the session cookie. Wrong, used and expired codes count as failed authentications.
     */
    void signIn(RoutingContext ctx) {
        if (off(ctx)) {
            return;
        }
        long wait = auth.limited(ctx);
        if (wait > 0) {
            throw new ApiError(429, "too many failed sign-ins from this address; try again in " + wait + " s");
        }
        JsonObject body = Responses.object(ctx);
        String code = Responses.optionalString(body, "code", 200);
        String token = Responses.optionalString(body, "token", 200);
        if ((code == null) == (token == null)) {
            throw ApiError.badRequest("send either code (from the invite link) or token");
        }
        String given = code != null ? code : token;
        if (!Secrets.wellFormed(given)) {
            auth.failed(ctx);
            throw new ApiError(401, code != null ? "this invite code is not valid" : "invalid token");
        }
        String session = Secrets.newSecret();
        long expiresAt = System.currentTimeMillis() + SESSION_SECONDS * 1000;
        CompletionStage<Redemption> r = code != null
                ? accounts.redeemInvite(Secrets.digest(code), Secrets.digest(session), expiresAt)
                : accounts.openSessionByToken(Secrets.digest(token), Secrets.digest(session), expiresAt);
        on(r).onSuccess(red -> {
            if (red.account() == null) {
                auth.failed(ctx);
                ctx.fail(new ApiError(401, switch (red.refusal()) {
                    case UNKNOWN -> code != null ? "this invite code is not valid" : "invalid token";
                    case USED -> "this invite link was already used: each opens one session; ask the admin for a "
                            + "new one";
                    case EXPIRED -> "this invite link has expired; ask the admin for a new one";
                    case INACTIVE -> "this account is disabled or deleted";
                }));
                return;
            }
            Auth.setSession(ctx, session, SESSION_SECONDS);
            Responses.json(ctx, 200, new JsonObject().put("annotator", red.account().name())
                    .put("role", red.account().role()).put("csrf_token", Auth.csrfToken(session))
                    .put("session_expires_at", expiresAt));
        }).onFailure(ctx::fail);
    }

    /** POST /api/session/end: ends this browser's session (the cookie is cleared); a token's caller has none. */
    void signOut(RoutingContext ctx) {
        String digest = Auth.sessionDigest(ctx);
        Future<Void> ended = digest == null ? Future.succeededFuture() : on(accounts.endSession(digest));
        ended.onSuccess(v -> {
            Auth.clearSession(ctx);
            Responses.json(ctx, 200, new JsonObject().put("signed_out", digest != null));
        }).onFailure(ctx::fail);
    }

    /** GET /api/guidelines: the current version, or version null when the admin has written none. */
    void guidelines(RoutingContext ctx) {
        on(accounts.currentGuideline()).onSuccess(g -> Responses.json(ctx, 200, g.map(AccountsApi::wire)
                .orElse(new JsonObject().putNull("version")))).onFailure(ctx::fail);
    }

    /** POST /api/guidelines {format, body}: the next version; votes from now on are given under it. */
    void writeGuidelines(RoutingContext ctx) {
        JsonObject body = Responses.object(ctx);
        String format = Responses.optionalString(body, "format", 20);
        format = format == null ? "markdown" : format;
        if (!format.equals("text") && !format.equals("markdown")) {
            throw ApiError.badRequest("format must be text or markdown");
        }
        String text = Responses.requiredString(body, "body", MAX_GUIDELINES);
        on(accounts.addGuideline(format, text, Auth.principal(ctx).name()))
                .onSuccess(g -> Responses.json(ctx, 201, wire(g))).onFailure(ctx::fail);
    }

    /** GET /api/progress: the caller's own vote count and the guideline version they vote under. */
    void progress(RoutingContext ctx) {
        Principal who = Auth.principal(ctx);
        on(accounts.votesBy(who.name())).compose(n -> on(accounts.currentGuidelineVersion())
                .map(v -> new JsonObject().put("annotator", who.name()).put("votes", n).put("guideline_version", v)))
                .onSuccess(j -> Responses.json(ctx, 200, j)).onFailure(ctx::fail);
    }

    private boolean off(RoutingContext ctx) {
        if (auth.accountsMode()) {
            return false;
        }
        ctx.fail(new ApiError(409, "accounts are off: start the server with --annotation accounts"));
        return true;
    }

    private <T> Future<T> on(CompletionStage<T> stage) {
        return Future.fromCompletionStage(stage, context);
    }

    private static void fail(RoutingContext ctx, Throwable t) {
        Throwable cause = t instanceof java.util.concurrent.CompletionException && t.getCause() != null
                ? t.getCause() : t;
        ctx.fail(cause instanceof AccountConflict c ? new ApiError(409, c.getMessage()) : cause);
    }

    private static ApiError unknown(String name) {
        return new ApiError(404, "no annotator named '" + name + "'");
    }

    static JsonObject wire(Account a) {
        return new JsonObject().put("name", a.name()).put("role", a.role()).put("status", a.status())
                .put("has_token", a.hasToken()).put("created_at", a.createdAtMillis())
                .put("updated_at", a.updatedAtMillis());
    }

    static JsonObject wire(AccountStore.Guideline g) {
        return new JsonObject().put("version", g.version()).put("format", g.format()).put("body", g.body())
                .put("created_at", g.createdAtMillis()).put("created_by", g.createdBy());
    }
}
