package org.pairwise.server.http;

import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

/**
 * What every request meets before the router: the response headers every page and API answer carries, and the
 * checks that need no route (a known HTTP version, one valid Host header). Requests Netty cannot parse at all
 * ({@link #invalid}) get the same one JSON error format.
 */
final class FrontDoor implements Handler<HttpServerRequest> {
    /**
     * Only the pages' own files: scripts and styles from this origin (no inline ones, no eval), requests to this
     * origin, no plugins, no framing by other sites, forms posting only here.
     */
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; "
            + "img-src 'self' data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
            + "form-action 'self'; frame-ancestors 'none'";

    // Encoded once: every answer carries them.
    private static final CharSequence NOSNIFF_NAME = HttpHeaders.createOptimized("X-Content-Type-Options");
    private static final CharSequence NOSNIFF = HttpHeaders.createOptimized("nosniff");
    private static final CharSequence CSP_NAME = HttpHeaders.createOptimized("Content-Security-Policy");
    private static final CharSequence CSP = HttpHeaders.createOptimized(CONTENT_SECURITY_POLICY);
    private static final CharSequence FRAME_NAME = HttpHeaders.createOptimized("X-Frame-Options");
    private static final CharSequence FRAME = HttpHeaders.createOptimized("DENY");
    private static final CharSequence REFERRER_NAME = HttpHeaders.createOptimized("Referrer-Policy");
    private static final CharSequence REFERRER = HttpHeaders.createOptimized("same-origin");

    private final Router router;
    private final ConnectionGuard guard;

    FrontDoor(Router router, ConnectionGuard guard) {
        this.router = router;
        this.guard = guard;
    }

    @Override
    public void handle(HttpServerRequest req) {
        guard.requestStarted(req);
        secure(req.response());
        if (req.version() == null) {
            reject(req, 400, "unsupported HTTP version: this server speaks HTTP/1.1 and HTTP/1.0");
        } else if (req.headers().getAll("Host").size() > 1) {
            reject(req, 400, "more than one Host header");
        } else if (req.version() == HttpVersion.HTTP_1_1 && req.authority() == null) {
            reject(req, 400, "a valid Host header is required (HTTP/1.1)");
        } else if (!wellEncoded(req.path()) || (req.query() != null && !wellEncoded(req.query()))) {
            reject(req, 400, "the path or query string is not valid percent-encoding");
        } else {
            router.handle(req);
        }
    }

    /** Every % starts an escape of two hex digits (the router cannot decode the path or query otherwise). */
    private static boolean wellEncoded(String path) {
        if (path == null) {
            return false;
        }
        for (int i = path.indexOf('%'); i >= 0; i = path.indexOf('%', i + 1)) {
            if (i + 2 >= path.length() || Character.digit(path.charAt(i + 1), 16) < 0
                    || Character.digit(path.charAt(i + 2), 16) < 0) {
                return false;
            }
        }
        return true;
    }

    /** For HttpServer.invalidRequestHandler: a request line or header Netty could not decode. */
    static void invalid(HttpServerRequest req) {
        Throwable cause = req.decoderResult() == null ? null : req.decoderResult().cause();
        secure(req.response());
        switch (cause) {
            case TooLongHttpLineException e -> reject(req, 414, "the request line is too long");
            case TooLongHttpHeaderException e -> reject(req, 431, "the request headers are too large");
            case TooLongFrameException e -> reject(req, 400, "a part of the request is too large");
            case null, default -> reject(req, 400, "malformed HTTP request");
        }
    }

    static void secure(HttpServerResponse resp) {
        resp.headers().add(NOSNIFF_NAME, NOSNIFF).add(CSP_NAME, CSP).add(FRAME_NAME, FRAME).add(REFERRER_NAME, REFERRER);
    }

    /** Answers with the one error format and closes the connection: what follows on it cannot be trusted. */
    static void reject(HttpServerRequest req, int status, String message) {
        HttpServerResponse resp = req.response();
        if (resp.ended() || resp.closed()) {
            return;
        }
        resp.setStatusCode(status).putHeader("Content-Type", "application/json; charset=utf-8")
                .putHeader("Connection", "close")
                .end(new JsonObject().put("error", message).put("detail", (Object) null).encode())
                .onComplete(ar -> req.connection().close());
    }
}
