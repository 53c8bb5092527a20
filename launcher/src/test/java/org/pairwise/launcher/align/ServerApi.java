package org.pairwise.launcher.align;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Predicate;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * The experiment's view of a server: plain blocking HTTP calls to the public API, so the experiment runs against any
 * Pairwise server, in-process or not. Status codes other than the expected ones fail with the server's error body.
 */
final class ServerApi implements AutoCloseable {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final URI base;
    private final String adminToken;
    private final String annotatorToken;

    ServerApi(URI base, String adminToken, String annotatorToken) {
        this.base = base;
        this.adminToken = adminToken;
        this.annotatorToken = annotatorToken;
    }

    /** A served pair: {@code pair_id}, {@code prompt}, {@code a.text}, {@code b.text}, {@code policy_version}. */
    JsonObject nextPair() throws IOException, InterruptedException {
        while (true) {
            HttpResponse<String> r = send(request("/api/pairs/next", annotatorToken).GET());
            if (r.statusCode() == 200) {
                return new JsonObject(r.body());
            }
            if (r.statusCode() != 503) {  // 503: the generator is still filling the pool
                throw failure("GET /api/pairs/next", r);
            }
            Thread.sleep(100);
        }
    }

    /** Casts a vote; returns the stored vote id. Retries the same idempotency key while the store queue is full. */
    long vote(String pairId, String choice, String annotator, String idempotencyKey)
            throws IOException, InterruptedException {
        String body = new JsonObject().put("pair_id", pairId).put("choice", choice).put("annotator", annotator)
                .put("idempotency_key", idempotencyKey).encode();
        while (true) {
            HttpResponse<String> r = send(request("/api/preferences", annotatorToken)
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)));
            if (r.statusCode() == 201 || r.statusCode() == 200) {
                return new JsonObject(r.body()).getLong("id");
            }
            if (r.statusCode() != 429) {
                throw failure("POST /api/preferences", r);
            }
            Thread.sleep(50);
        }
    }

    JsonObject stats() throws IOException, InterruptedException {
        return json("/api/stats", null);
    }

    JsonArray trainingSteps(int since) throws IOException, InterruptedException {
        return json("/api/training/metrics?since=" + since, null).getJsonArray("steps");
    }

    JsonObject trainer(String command) throws IOException, InterruptedException {
        HttpResponse<String> r = send(request("/api/trainer/" + command, adminToken)
                .POST(HttpRequest.BodyPublishers.noBody()));
        if (r.statusCode() != 200) {
            throw failure("POST /api/trainer/" + command, r);
        }
        return new JsonObject(r.body());
    }

    /**
     * Downloads the adapter the generator samples from now into {@code dir}; returns its policy version, or -1 when
     * the server serves the base model (404).
     */
    int downloadAdapter(Path dir) throws IOException, InterruptedException {
        HttpResponse<InputStream> r = http.send(request("/api/adapter", adminToken).GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() == 404) {
            r.body().close();
            return -1;
        }
        if (r.statusCode() != 200) {
            String err = new String(r.body().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            throw new IOException("GET /api/adapter: HTTP " + r.statusCode() + ": " + err);
        }
        String disposition = r.headers().firstValue("Content-Disposition").orElse("");
        var m = java.util.regex.Pattern.compile("pairwise-adapter-v(\\d+)\\.zip").matcher(disposition);
        if (!m.find()) {
            r.body().close();
            throw new IOException("GET /api/adapter: no version in Content-Disposition '" + disposition + "'");
        }
        Files.createDirectories(dir);
        try (ZipInputStream zip = new ZipInputStream(r.body())) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
                Path target = dir.resolve(e.getName()).normalize();
                if (!target.startsWith(dir) || e.isDirectory()) {
                    throw new IOException("unexpected entry in the adapter zip: " + e.getName());
                }
                Files.copy(zip, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return Integer.parseInt(m.group(1));
    }

    /** GET of an admin-readable route (the leaderboard, the policy versions). */
    JsonObject adminGet(String path) throws IOException, InterruptedException {
        return json(path, adminToken);
    }

    /** POST of a JSON body to an admin route; the answer's JSON. */
    JsonObject adminPost(String path, JsonObject body) throws IOException, InterruptedException {
        HttpResponse<String> r = send(request(path, adminToken).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body == null ? "{}" : body.encode())));
        if (r.statusCode() != 200) {
            throw failure("POST " + path, r);
        }
        return new JsonObject(r.body());
    }

    /** Polls the stats until the condition holds; fails naming what it waited for and the last stats seen. */
    JsonObject awaitStats(Predicate<JsonObject> done, Duration timeout, String what)
            throws IOException, InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonObject s = stats();
            String error = s.getJsonObject("trainer", new JsonObject()).getString("error");
            if (error != null) {
                throw new IllegalStateException("the server's trainer failed: " + error);
            }
            if (done.test(s)) {
                return s;
            }
            if (System.nanoTime() > end) {
                throw new IllegalStateException("timed out after " + timeout.toSeconds() + " s waiting for " + what
                        + "; last stats: " + s.encode());
            }
            Thread.sleep(50);
        }
    }

    private JsonObject json(String path, String token) throws IOException, InterruptedException {
        HttpResponse<String> r = send(request(path, token).GET());
        if (r.statusCode() != 200) {
            throw failure("GET " + path, r);
        }
        return new JsonObject(r.body());
    }

    private HttpRequest.Builder request(String path, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(TIMEOUT);
        return token == null ? b : b.header("Authorization", "Bearer " + token);
    }

    private HttpResponse<String> send(HttpRequest.Builder b) throws IOException, InterruptedException {
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Override
    public void close() {
        http.close();
    }

    private static IllegalStateException failure(String what, HttpResponse<String> r) {
        return new IllegalStateException(what + ": HTTP " + r.statusCode() + ": " + r.body());
    }
}
