package org.pairwise.server.http;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.pairwise.server.store.PreferenceStore.StoreBusyException;
import org.pairwise.server.store.PreferenceStore.StoreUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one failure handler: every error, from a handler, Vert.x Web (413 from the body limit, 404/405 from the
 * router) or a failed store future, leaves as {@code {"error": "...", "detail": ...}} with its status. No exception's
 * own text reaches a client unless this project wrote it for one ({@link #clientMessage}); an internal error is
 * logged under an incident id that the client gets instead.
 */
final class Failures {
    private static final Logger LOG = LoggerFactory.getLogger(Failures.class);

    private static final String NETTY_MULTIPART = "io.netty.handler.codec.http.multipart.";
    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    private final long maxBodyBytes;

    Failures(long maxBodyBytes) {
        this.maxBodyBytes = maxBodyBytes;
    }

    void handle(RoutingContext ctx) {
        Throwable f = unwrap(ctx.failure());
        int status = ctx.statusCode();
        String message;
        String incident = null;
        Object detail = null;
        switch (f) {
            case ApiError e -> {
                status = e.status;
                message = e.getMessage();
                detail = e.detail;
            }
            case HttpException e -> {
                status = e.getStatusCode();
                message = reason(status);
            }
            case StoreBusyException e -> {
                status = 429;
                message = "the preference store is busy; retry shortly";
                detail = e.getMessage();
                ctx.response().putHeader("Retry-After", "1");
            }
            case StoreUnavailableException e -> {
                status = e.diskFull() ? 507 : 503;  // nothing was stored; the store recovers by itself
                message = e.getMessage();
                ctx.response().putHeader("Retry-After", "5");
            }
            case IllegalArgumentException e -> {
                status = 400;  // the engine's and config's convention for bad input
                message = clientMessage(e);
            }
            case Exception e when malformedBody(e) -> {
                status = 400;  // the HTTP or multipart decoder's complaint about the bytes sent: the client's to fix
                message = "malformed request body";
            }
            case null -> message = reason(status);
            case Throwable t when clientStatus(ctx.statusCode()) -> message = reason(status);  // ctx.fail(4xx, e)
            default -> {
                status = 500;
                message = "internal error";
                detail = new JsonObject().put("incident", incident = Long.toHexString(RANDOM.nextLong()));
            }
        }
        if (status < 400) {
            status = 500;
            message = reason(status);
        }
        if (status == 413) {
            detail = new JsonObject().put("max_body_bytes", maxBodyBytes);
        }
        if (status >= 500 && !(f instanceof StoreUnavailableException)) {  // the store logs that once, not per request
            LOG.error("{} {} failed{}", ctx.request().method(), ctx.request().path(),
                    incident == null ? "" : " (incident " + incident + ")", f);
        }
        if (ctx.response().headWritten()) {
            // Mid-stream (export, SSE): the status is gone; cut the connection so the client sees a failure, not a
            // truncated body that looks complete.
            ctx.response().reset();
            return;
        }
        ctx.response().headers().remove("Content-Disposition");  // a failed download is a JSON error, not a file
        if (status == 401) {
            ctx.response().putHeader("WWW-Authenticate", "Bearer");
        }
        if (status == 413 || (!ctx.request().isEnded() && WriteChecks.hasBody(ctx.request()))) {
            ctx.response().putHeader("Connection", "close");  // the rest of the body is not read
        }
        Responses.json(ctx, status, new JsonObject().put("error", message).put("detail", detail));
    }

    private static boolean clientStatus(int status) {
        return status >= 400 && status < 500;
    }

    /**
     * What a client may read of an exception: its message when this project threw it as bad input (the first frame
     * of its stack is ours), else the bare status reason. A library's message (a JDK decoder's, Jackson's, Netty's)
     * describes its internals, not what the client should change.
     */
    static String clientMessage(Throwable t) {
        StackTraceElement[] where = t.getStackTrace();
        boolean ours = where.length > 0 && where[0].getClassName().startsWith("org.pairwise.");
        if (t instanceof ApiError || (t instanceof IllegalArgumentException && ours && t.getMessage() != null)) {
            return t.getMessage();
        }
        return t instanceof IllegalArgumentException ? "bad request" : "internal error";
    }

    /**
     * Netty failed to decode the body: bad chunking (a DecoderException), or its multipart decoder gave up on the
     * parts, with one of its own exceptions or (for some malformed parts) an exception thrown from inside it.
     */
    private static boolean malformedBody(Exception e) {
        StackTraceElement[] where = e.getStackTrace();
        return e instanceof io.netty.handler.codec.DecoderException
                || e.getClass().getName().startsWith(NETTY_MULTIPART)
                || (where.length > 0 && where[0].getClassName().startsWith(NETTY_MULTIPART));
    }

    static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static String reason(int status) {
        return switch (status) {
            case 400 -> "bad request";
            case 401 -> "authentication required";
            case 403 -> "forbidden";
            case 404 -> "not found";
            case 405 -> "method not allowed";
            case 408 -> "request timeout";
            case 413 -> "request body too large";
            case 415 -> "unsupported media type";
            case 429 -> "too many requests";
            default -> status >= 500 ? "internal error" : "request failed";
        };
    }
}
