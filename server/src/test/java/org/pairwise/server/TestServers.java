package org.pairwise.server;

import org.pairwise.model.SharedModels;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.concurrent.CompletableFuture;
import org.pairwise.server.auth.AnonymousIdentity;
import org.pairwise.server.store.PreferenceStore;
import org.pairwise.server.config.ServeConfig;

/** Settings and helpers shared by the server tests: small, fast settings on stories260K (or the demo model). */
public final class TestServers {
    private TestServers() {}

    /** stories260K when the shared models are here (real text, real tokenizer), else the built-in demo model. */
    public static String model() {
        return SharedModels.find("stories260K/stories260K.gguf").map(Path::toString).orElse("demo");
    }

    /** One DPO step per vote, a policy version per step, short responses, one thread each (the CI box has two). */
    public static Map<String, String> fastSettings(Path dataDir) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("model", model());
        m.put("data_dir", dataDir.toString());
        m.put("port", "0");
        m.put("max_new_tokens", "16");
        m.put("pool_size", "2");
        m.put("batch_size", "1");
        m.put("publish_every", "1");
        m.put("batch_window_ms", "200");
        m.put("generation_threads", "1");
        m.put("training_threads", "1");
        return m;
    }

    public static ServeConfig config(Path dataDir, Map<String, String> overrides) {
        Map<String, String> m = fastSettings(dataDir);
        m.putAll(overrides);
        return ServeConfig.defaults().withOverrides(m);
    }

    /**
     * Blocking request helpers for tests (the test thread is not an event loop, so await() parks it). {@code headers}
     * go with every request: a person's identity cookie ({@link #as}) or the admin token ({@link #asAdmin}).
     */
    public record Client(WebClient web, int port, String adminToken, MultiMap headers) {
        public Client(WebClient web, int port, String adminToken) {
            this(web, port, adminToken, MultiMap.caseInsensitiveMultiMap());
        }

        /** This client as the browser of {@code person}: its own anonymous identity cookie, the same every time. */
        public Client as(String person) {
            return new Client(web, port, adminToken, MultiMap.caseInsensitiveMultiMap()
                    .add("Cookie", AnonymousIdentity.COOKIE + "=" + secretOf(person)));
        }

        /** This client with the admin token on every request (reads everyone's votes and counts). */
        public Client asAdmin() {
            return new Client(web, port, adminToken, MultiMap.caseInsensitiveMultiMap()
                    .add("Authorization", "Bearer " + adminToken));
        }

        /** The annotator name the server gives {@code person}'s browser. */
        public String name(String person) {
            return as(person).get("/api/me").bodyAsJsonObject().getString("annotator");
        }

        public HttpResponse<Buffer> get(String path) {
            return send(HttpMethod.GET, path, null, MultiMap.caseInsensitiveMultiMap());
        }

        public HttpResponse<Buffer> admin(HttpMethod method, String path) {
            return send(method, path, null, MultiMap.caseInsensitiveMultiMap()
                    .add("Authorization", "Bearer " + adminToken));
        }

        public HttpResponse<Buffer> post(String path, String body) {
            return send(HttpMethod.POST, path, body, MultiMap.caseInsensitiveMultiMap()
                    .add("Content-Type", "application/json"));
        }

        /** A vote from {@code person}'s browser (the body's annotator field, which the server ignores, says who). */
        public HttpResponse<Buffer> vote(String pairId, String choice, String person) {
            return as(person).post("/api/preferences", new JsonObject().put("pair_id", pairId).put("choice", choice)
                    .put("annotator", person).encode());
        }

        public HttpResponse<Buffer> send(HttpMethod method, String path, String body, MultiMap headers) {
            var req = web.request(method, port, "127.0.0.1", path).putHeaders(this.headers).putHeaders(headers);
            Future<HttpResponse<Buffer>> f = body == null ? req.send() : req.sendBuffer(Buffer.buffer(body));
            return f.await();
        }
    }

    /** The real store, except that {@code method} fails with {@code failure} (a store that misbehaves on purpose). */
    public static PreferenceStore failing(PreferenceStore real, String method, Throwable failure) {
        return (PreferenceStore) Proxy.newProxyInstance(PreferenceStore.class.getClassLoader(),
                new Class<?>[] {PreferenceStore.class}, (proxy, m, args) -> {
                    if (m.getName().equals(method)) {
                        return CompletableFuture.failedFuture(failure);
                    }
                    try {
                        return m.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** A well-formed identity secret of the person's own, as a script gives each simulated person one. */
    public static String secretOf(String person) {
        try {
            byte[] h = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(("test person " + person).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return java.util.HexFormat.of().formatHex(h, 0, 16);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** Polls until the value satisfies the condition; fails with the last value seen. */
    public static <T> T await(Supplier<T> value, Predicate<T> done, Duration timeout, String what) {
        long end = System.nanoTime() + timeout.toNanos();
        T v = value.get();
        while (!done.test(v)) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting for " + what + "; last value: " + v);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
            v = value.get();
        }
        return v;
    }
}
