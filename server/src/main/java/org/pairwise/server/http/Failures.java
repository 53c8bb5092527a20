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
 * router) or a failed store future, leaves as {@code {"error": "...", "detail": ...}} with its status.
 */
final class Failures {
    private static final Logger LOG = LoggerFactory.getLogger(Failures.class);

    private final long maxBodyBytes;

    Failures(long maxBodyBytes) {
        this.maxBodyBytes = maxBodyBytes;
    }

    void handle(RoutingContext ctx) {
        Throwable f = unwrap(ctx.failure());
        int status = ctx.statusCode();
        String message;
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
                status = 400;  // the engine's and config's convention for bad input, message included
                message = e.getMessage();
            }
            case null -> message = reason(status);
            default -> {
                status = 500;
                message = "internal error";
                detail = f.toString();
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
            LOG.error("{} {} failed", ctx.request().method(), ctx.request().path(), f);
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
        if (status == 413) {
            ctx.response().putHeader("Connection", "close");  // the rest of the oversized body is not read
        }
        Responses.json(ctx, status, new JsonObject().put("error", message).put("detail", detail));
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
            case 404 -> "not found";
            case 405 -> "method not allowed";
            case 413 -> "request body too large";
            case 415 -> "unsupported media type";
            default -> status >= 500 ? "internal error" : "request failed";
        };
    }
}
