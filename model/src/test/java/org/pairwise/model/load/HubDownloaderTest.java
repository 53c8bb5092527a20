package org.pairwise.model.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.accel.DType;
import org.pairwise.model.ModelConfig;

/**
 * Downloads against a local stand-in for the hub that answers like huggingface.co: X-Repo-Commit on every resolve,
 * a quoted ETag for small files, and for weights a 302 to a "CDN" path carrying X-Linked-Etag (the sha256).
 */
class HubDownloaderTest {
    private static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
    private static final String REPO = "org/tiny";

    @TempDir
    Path tmp;
    private Path remote;
    private HttpServer server;
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private final List<String> authorizations = new CopyOnWriteArrayList<>();
    private volatile String requiredToken;
    private volatile String truncate;
    private final Map<String, String> env = new HashMap<>();
    private final ModelConfig config = TestModels.tinyConfig("Qwen2ForCausalLM", true);

    @BeforeEach
    void start() throws IOException {
        remote = TestModels.writeHfModel(tmp.resolve("remote"), config, DType.BF16, 2);
        Files.writeString(remote.resolve("generation_config.json"), "{\"eos_token_id\": [2, 3]}");
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
        env.put("HF_ENDPOINT", "http://127.0.0.1:" + server.getAddress().getPort());
        env.put("HF_HOME", tmp.resolve("hf-home").toString());
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        requests.add(path);
        authorizations.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
        try (ex) {
            if (requiredToken != null && !("Bearer " + requiredToken).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                ex.getResponseHeaders().add("X-Error-Code", "GatedRepo");
                ex.sendResponseHeaders(401, -1);
                return;
            }
            if (path.startsWith("/cdn/")) {
                send(ex, Files.readAllBytes(remote.resolve(path.substring(5))));
                return;
            }
            String prefix = "/" + REPO + "/resolve/";
            if (!path.startsWith(prefix)) {
                ex.getResponseHeaders().add("X-Error-Code", "RepositoryNotFound");
                ex.sendResponseHeaders(404, -1);
                return;
            }
            String rest = path.substring(prefix.length());
            String rev = rest.substring(0, rest.indexOf('/'));
            String file = rest.substring(rest.indexOf('/') + 1);
            if (!rev.equals("main") && !rev.equals(COMMIT)) {
                ex.getResponseHeaders().add("X-Error-Code", "RevisionNotFound");
                ex.sendResponseHeaders(404, -1);
                return;
            }
            ex.getResponseHeaders().add("X-Repo-Commit", COMMIT);
            Path f = remote.resolve(file);
            if (!Files.isRegularFile(f)) {
                ex.getResponseHeaders().add("X-Error-Code", "EntryNotFound");
                ex.sendResponseHeaders(404, -1);
                return;
            }
            byte[] bytes = Files.readAllBytes(f);
            if (file.endsWith(".safetensors")) {
                ex.getResponseHeaders().add("X-Linked-Etag", "\"" + hex("SHA-256", bytes) + "\"");
                ex.getResponseHeaders().add("Location", "/cdn/" + file);
                ex.sendResponseHeaders(302, -1);
                return;
            }
            ex.getResponseHeaders().add("ETag", "\"" + hex("SHA-1", bytes) + "\"");
            if (file.equals(truncate)) {
                ex.sendResponseHeaders(200, bytes.length);
                ex.getResponseBody().write(bytes, 0, bytes.length / 2);
                ex.getResponseBody().flush();
                throw new IOException("connection dropped on purpose");
            }
            send(ex, bytes);
        }
    }

    private static void send(HttpExchange ex, byte[] bytes) throws IOException {
        ex.sendResponseHeaders(200, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static String hex(String algorithm, byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private Path repoDir() {
        return tmp.resolve("hf-home/hub/models--org--tiny");
    }

    @Test
    void downloadsIntoTheHfCacheLayoutAndThenNeedsNoRequest() throws IOException {
        ByteArrayOutputStream bar = new ByteArrayOutputStream();
        try (Checkpoint c = ModelSource.open(REPO, null, env, new PrintStream(bar, true, StandardCharsets.UTF_8))) {
            assertEquals("hf", c.format());
            assertEquals(REPO, c.source());
            assertArrayEquals(new int[] {2, 3}, c.config().eosTokenIds(), "generation_config.json was fetched");
            for (TensorData w : TestModels.weights(config, DType.BF16, 42)) {
                assertArrayEquals(Tensors.toFloats(w), Tensors.toFloats(c.tensor(w.name())), w.name());
            }
        }
        assertEquals(COMMIT, Files.readString(repoDir().resolve("refs/main")));
        Path snap = repoDir().resolve("snapshots").resolve(COMMIT);
        for (String f : List.of("config.json", "generation_config.json", "tokenizer.json", "model.safetensors.index.json",
                "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")) {
            Path link = snap.resolve(f);
            assertTrue(Files.isSymbolicLink(link), f + " is a symlink into blobs/");
            assertTrue(Files.readSymbolicLink(link).toString().startsWith("../../blobs/"), f);
            assertArrayEquals(Files.readAllBytes(remote.resolve(f)), Files.readAllBytes(link), f);
        }
        byte[] shard = Files.readAllBytes(remote.resolve("model-00001-of-00002.safetensors"));
        assertTrue(Files.exists(repoDir().resolve("blobs").resolve(hex("SHA-256", shard))), "weights keyed by sha256");
        byte[] cfg = Files.readAllBytes(remote.resolve("config.json"));
        assertTrue(Files.exists(repoDir().resolve("blobs").resolve(hex("SHA-1", cfg))), "small files keyed by ETag");
        assertNoPartialFiles();
        String progress = bar.toString(StandardCharsets.UTF_8);
        assertTrue(progress.contains("model-00001-of-00002.safetensors") && progress.contains("100%"), progress);
        assertTrue(requests.stream().allMatch(r -> r.startsWith("/org/tiny/resolve/") || r.startsWith("/cdn/")));
        assertTrue(requests.stream().skip(1).filter(r -> r.startsWith("/org/")).allMatch(r -> r.contains(COMMIT)),
                "files after the first are fetched at the resolved commit: " + requests);

        int before = requests.size();
        try (Checkpoint again = ModelSource.open(REPO, null, env, null)) {
            assertEquals(config.hiddenSize(), again.config().hiddenSize());
        }
        env.put("HF_HUB_OFFLINE", "1");
        try (Checkpoint offline = ModelSource.open(REPO + "@main", null, env, null)) {
            assertEquals(config.numLayers(), offline.config().numLayers());
        }
        try (Checkpoint byCommit = ModelSource.open(REPO + "@" + COMMIT, null, env, null)) {
            assertEquals(config.numLayers(), byCommit.config().numLayers());
        }
        assertEquals(before, requests.size(), "a cached snapshot is opened without any request");
    }

    @Test
    void offlineWithAnEmptyCacheFailsWithoutARequest() {
        env.put("HF_HUB_OFFLINE", "1");
        IOException e = assertThrows(IOException.class, () -> ModelSource.open(REPO, null, env, null));
        assertTrue(e.getMessage().contains("HF_HUB_OFFLINE") && e.getMessage().contains("org/tiny"), e.getMessage());
        assertEquals(List.of(), requests);
    }

    @Test
    void tokenIsSentAsBearerAndItsAbsenceExplained() throws IOException {
        requiredToken = "hf_secret";
        IOException e = assertThrows(IOException.class, () -> ModelSource.open(REPO, null, env, null));
        assertTrue(e.getMessage().contains("401") && e.getMessage().contains("HF_TOKEN"), e.getMessage());
        requests.clear();
        authorizations.clear();
        env.put("HF_TOKEN", "hf_secret");
        try (Checkpoint c = ModelSource.open(REPO, null, env, null)) {
            assertEquals("hf", c.format());
        }
        assertFalse(requests.isEmpty());
        assertTrue(authorizations.stream().allMatch("Bearer hf_secret"::equals), authorizations.toString());
    }

    @Test
    void unknownRepoOrRevisionIsNotFoundAndLeavesNothing() throws IOException {
        IOException e = assertThrows(IOException.class, () -> ModelSource.open("org/missing", null, env, null));
        assertTrue(e.getMessage().contains("not found") && e.getMessage().contains("org/missing"), e.getMessage());
        e = assertThrows(IOException.class, () -> ModelSource.open(REPO + "@v9", null, env, null));
        assertTrue(e.getMessage().contains("not found") && e.getMessage().contains("RevisionNotFound"), e.getMessage());
        assertFalse(Files.exists(repoDir().resolve("snapshots")), "nothing was linked into a snapshot");
        assertNoPartialFiles();
    }

    @Test
    void missingRequiredFileIsNotFound() throws IOException {
        Files.delete(remote.resolve("tokenizer.json"));
        IOException e = assertThrows(IOException.class, () -> ModelSource.open(REPO, null, env, null));
        assertTrue(e.getMessage().contains("not found on the hub") && e.getMessage().contains("tokenizer.json"),
                e.getMessage());
        assertFalse(Files.exists(repoDir().resolve("snapshots").resolve(COMMIT).resolve("tokenizer.json")));
        assertNoPartialFiles();
    }

    @Test
    void droppedConnectionLeavesNoPartialFile() throws IOException {
        truncate = "tokenizer.json";
        IOException e = assertThrows(IOException.class, () -> ModelSource.open(REPO, null, env, null));
        assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
        assertFalse(Files.exists(repoDir().resolve("snapshots").resolve(COMMIT).resolve("tokenizer.json")));
        assertNoPartialFiles();
        byte[] tok = Files.readAllBytes(remote.resolve("tokenizer.json"));
        assertFalse(Files.exists(repoDir().resolve("blobs").resolve(hex("SHA-1", tok))));
        truncate = null;
        try (Checkpoint c = ModelSource.open(REPO, null, env, null)) {
            assertEquals(Files.readString(remote.resolve("tokenizer.json")), c.tokenizerJson());
        }
    }

    private void assertNoPartialFiles() throws IOException {
        if (!Files.exists(repoDir())) {
            return;
        }
        try (Stream<Path> files = Files.walk(repoDir())) {
            List<Path> partial = files.filter(p -> p.getFileName().toString().startsWith(".")
                    || p.getFileName().toString().endsWith(".incomplete")).toList();
            assertEquals(List.of(), partial);
        }
    }
}
