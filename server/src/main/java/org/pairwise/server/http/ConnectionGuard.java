package org.pairwise.server.http;

import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Time and count limits per connection, against clients that hold connections without completing requests
 * (slowloris, slow bodies): a new connection must deliver a complete request head within the header timeout; between
 * requests a kept-alive connection may stay idle for the idle timeout; a request's body must arrive within the body
 * timeout of its head (else 408). While the server itself works on a request (a generation, a stream, an export) no
 * limit runs. At most {@code maxConnections} are open; more are closed as they arrive. Checked once a second by
 * {@link #sweep}. Event-loop only: the HTTP verticle's one loop runs every handler here.
 */
final class ConnectionGuard {
    private static final class State {
        final long openedAt;
        long waitingSince;
        boolean served;           // a request was answered: the idle timeout applies now, not the header timeout
        HttpServerRequest current;
        long currentSince;
        boolean awaitingBody;     // a body handler is reading the current request's body

        State(long now) {
            openedAt = now;
            waitingSince = now;
        }
    }

    private final long headerTimeoutNanos;
    private final long idleTimeoutNanos;
    private final long bodyTimeoutNanos;
    private final int maxConnections;
    private final Map<HttpConnection, State> open = new IdentityHashMap<>();

    ConnectionGuard(long headerTimeoutMs, long idleTimeoutMs, long bodyTimeoutMs, int maxConnections) {
        this.headerTimeoutNanos = headerTimeoutMs * 1_000_000;
        this.idleTimeoutNanos = idleTimeoutMs * 1_000_000;
        this.bodyTimeoutNanos = bodyTimeoutMs * 1_000_000;
        this.maxConnections = maxConnections;
    }

    void connected(HttpConnection c) {
        if (open.size() >= maxConnections) {
            c.close();
            return;
        }
        open.put(c, new State(System.nanoTime()));
        c.closeHandler(v -> open.remove(c));
    }

    /** A request's head has arrived. */
    void requestStarted(HttpServerRequest req) {
        State s = open.get(req.connection());
        if (s != null) {
            s.current = req;
            s.currentSince = System.nanoTime();
            s.awaitingBody = false;
        }
    }

    /**
     * A body handler starts on this request: until {@link #bodyRead}, the body timeout runs even after the last byte
     * arrived (a multipart upload whose part never ends leaves the body handler waiting on a complete request).
     */
    void expectBody(HttpServerRequest req) {
        State s = open.get(req.connection());
        if (s != null) {  // HTTP/1: the connection's one request in flight (Vert.x Web wraps the request object)
            s.awaitingBody = true;
        }
    }

    void bodyRead(HttpServerRequest req) {
        State s = open.get(req.connection());
        if (s != null) {
            s.awaitingBody = false;
        }
    }

    int openConnections() {
        return open.size();
    }

    void sweep() {
        long now = System.nanoTime();
        List<HttpConnection> idle = new ArrayList<>();
        List<HttpServerRequest> slow = new ArrayList<>();
        for (Map.Entry<HttpConnection, State> e : open.entrySet()) {
            State s = e.getValue();
            if (s.current != null && s.current.response().ended()) {
                s.current = null;
                s.served = true;
                s.waitingSince = now;
            }
            if (s.current == null) {
                if (now - s.waitingSince > (s.served ? idleTimeoutNanos : headerTimeoutNanos)) {
                    idle.add(e.getKey());
                }
            } else if ((!s.current.isEnded() || s.awaitingBody) && now - s.currentSince > bodyTimeoutNanos) {
                slow.add(s.current);
            }
        }
        idle.forEach(HttpConnection::close);
        for (HttpServerRequest req : slow) {
            if (req.response().headWritten()) {
                req.connection().close();
            } else {
                FrontDoor.reject(req, 408, "the request body did not arrive in time");
            }
        }
    }
}
