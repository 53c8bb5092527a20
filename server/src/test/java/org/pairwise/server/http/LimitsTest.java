package org.pairwise.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.server.PairwiseServer;
import org.pairwise.server.TestServers;
import org.pairwise.server.TestServers.Client;

/**
 * Limits against a real server on loopback, with short timeouts so the test waits seconds, not minutes: failed tokens
 * per client (429 with Retry-After), header, idle and body timeouts and a connection cap against slowloris, and the
 * requests Vert.x used to answer with 500 (no Host) or 501 (unknown HTTP versions).
 */
@ExtendWith(VertxExtension.class)
class LimitsTest {
    static final int FAILURES_PER_MINUTE = 60;  // one more every second once spent
    static final int MAX_CONNECTIONS = 40;

    @TempDir
    static Path dir;
    static PairwiseServer server;
    static Client http;

    @BeforeAll
    static void start(Vertx vertx) throws Exception {
        server = PairwiseServer.start(TestServers.config(dir, Map.of("auth_failures_per_minute",
                Integer.toString(FAILURES_PER_MINUTE), "header_timeout_ms", "1000", "idle_timeout_ms", "2000",
                "body_timeout_ms", "1500", "max_connections", Integer.toString(MAX_CONNECTIONS))));
        http = new Client(WebClient.create(vertx), server.port(), server.adminToken());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static MultiMap bearer(String token) {
        return MultiMap.caseInsensitiveMultiMap().add("Authorization", "Bearer " + token);
    }

    @Test
    void wrongTokensFromOneClientAreRefusedWithRetryAfterAndThenEvenTheRightOne() throws Exception {
        for (int i = 0; i < FAILURES_PER_MINUTE; i++) {
            assertEquals(401, http.send(HttpMethod.GET, "/api/export", null, bearer("guess-" + i)).statusCode());
        }
        var limited = http.send(HttpMethod.GET, "/api/export", null, bearer("guess-next"));
        assertEquals(429, limited.statusCode(), limited.bodyAsString());
        long retryAfter = Long.parseLong(limited.getHeader("Retry-After"));
        assertTrue(retryAfter >= 1 && retryAfter <= 60 / FAILURES_PER_MINUTE + 1, "Retry-After " + retryAfter);
        // Checking a token now would still answer the guess, right or wrong: the right one is refused unchecked.
        assertEquals(429, http.admin(HttpMethod.GET, "/api/export").statusCode());
        // Requests that present no token are no guesses; open mode keeps serving them.
        assertEquals(200, http.get("/api/stats").statusCode());
        Thread.sleep(retryAfter * 1000 + 200);
        assertEquals(200, http.admin(HttpMethod.GET, "/api/export").statusCode(), "one more try a second");
        assertEquals(401, http.send(HttpMethod.GET, "/api/export", null, bearer("guess-again")).statusCode());
        assertEquals(429, http.send(HttpMethod.GET, "/api/export", null, bearer("guess-again")).statusCode());
        Thread.sleep(1200);  // leave the bucket with a token for the other tests
    }

    @Test
    void connectionsThatNeverCompleteARequestAreClosed() throws Exception {
        List<Socket> slow = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) {
                Socket s = new Socket("127.0.0.1", server.port());
                s.getOutputStream().write("GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".getBytes(
                        StandardCharsets.US_ASCII));
                s.setSoTimeout(6000);
                slow.add(s);
            }
            long start = System.nanoTime();
            for (Socket s : slow) {
                assertEquals(-1, read(s), "a connection with half a request head is closed, not kept");
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            assertTrue(seconds < 5, "closed after " + seconds + " s (header timeout 1 s)");
        } finally {
            for (Socket s : slow) {
                s.close();
            }
        }
    }

    @Test
    void moreConnectionsThanTheCapAreClosedAtOnceAndServiceResumes() throws Exception {
        List<Socket> held = new ArrayList<>();
        int closedAtOnce = 0;
        try {
            for (int i = 0; i < MAX_CONNECTIONS + 10; i++) {
                Socket s = new Socket("127.0.0.1", server.port());
                held.add(s);
            }
            Thread.sleep(300);  // well inside the 1 s header timeout: what is closed now was refused by the cap
            for (Socket s : held) {
                s.setSoTimeout(5);
                if (read(s) == -1) {
                    closedAtOnce++;
                }
            }
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
        // The test's own HTTP client may hold a kept-alive connection or two of the cap.
        assertTrue(closedAtOnce >= 10 && closedAtOnce <= 13, closedAtOnce + " of " + held.size()
                + " closed at once; cap " + MAX_CONNECTIONS);
        Thread.sleep(500);
        assertEquals(200, http.get("/api/stats").statusCode());
    }

    @Test
    void anIdleKeptAliveConnectionIsClosedAfterTheIdleTimeout() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.getOutputStream().write("GET /api/training/metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(
                    StandardCharsets.US_ASCII));
            s.setSoTimeout(1000);
            String first = readSome(s);
            assertTrue(first.startsWith("HTTP/1.1 200"), first);
            long start = System.nanoTime();
            s.setSoTimeout(8000);
            assertEquals(-1, drainUntilClosed(s));
            double seconds = (System.nanoTime() - start) / 1e9;
            assertTrue(seconds > 1.0 && seconds < 5, "closed after " + seconds + " s idle (idle timeout 2 s)");
        }
    }

    @Test
    void aBodyThatStopsArrivingGets408() throws Exception {
        String r = RawHttp.exchange(server.port(), "POST /api/preferences HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"pair_id\":", 6000);
        assertEquals(408, RawHttp.status(r), r);
        assertTrue(RawHttp.body(r).contains("did not arrive in time"), r);
    }

    @Test
    void noHostHeaderIs400WithoutAnErrorLogLineAndUnknownVersionsAre400() throws Exception {
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        String noHost;
        String badVersion;
        String badLine;
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            noHost = RawHttp.exchange(server.port(), "GET /api/stats HTTP/1.1\r\nConnection: close\r\n\r\n", 5000);
            badVersion = RawHttp.exchange(server.port(), "GET /api/stats HTTP/9.9\r\nHost: 127.0.0.1\r\n"
                    + "Connection: close\r\n\r\n", 5000);
            badLine = RawHttp.exchange(server.port(), "BROKEN\r\n\r\n", 5000);
        } finally {
            System.setErr(err);
        }
        assertEquals(400, RawHttp.status(noHost), noHost);
        assertEquals("a valid Host header is required (HTTP/1.1)",
                new JsonObject(RawHttp.body(noHost)).getString("error"));
        assertFalse(noHost.contains("VertxException") || noHost.contains("io.vertx"), noHost);
        assertEquals(400, RawHttp.status(badVersion), badVersion);
        assertTrue(RawHttp.body(badVersion).contains("unsupported HTTP version"), badVersion);
        assertEquals(400, RawHttp.status(badLine), badLine);
        assertTrue(badLine.toLowerCase().contains("content-type: application/json"), badLine);
        assertFalse(captured.toString(StandardCharsets.UTF_8).contains("ERROR"), captured.toString());
        // HTTP/1.0 needs no Host (a valid request then).
        String old = RawHttp.exchange(server.port(), "GET /api/training/metrics HTTP/1.0\r\n\r\n", 5000);
        assertEquals(200, RawHttp.status(old), old);
    }

    private static int read(Socket s) throws IOException {
        try {
            return s.getInputStream().read();
        } catch (SocketTimeoutException e) {
            return -2;
        } catch (IOException e) {
            return -1;  // reset by the server: closed too
        }
    }

    private static String readSome(Socket s) throws IOException {
        byte[] buf = new byte[16384];
        int n = s.getInputStream().read(buf);
        return n < 0 ? "" : new String(buf, 0, n, StandardCharsets.UTF_8);
    }

    private static int drainUntilClosed(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        try {
            while (in.read() >= 0) {
                // the rest of the first response
            }
            return -1;
        } catch (SocketTimeoutException e) {
            return -2;
        } catch (IOException e) {
            return -1;
        }
    }
}
