package org.pairwise.model.load;

import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.UUID;

/**
 * Fetches a model snapshot from the Hugging Face hub into the {@link HubCache}, as huggingface_hub would: files come
 * from {@code $HF_ENDPOINT/<repo>/resolve/<revision>/<file>}; the commit is the X-Repo-Commit header of the first
 * answer, and later files are fetched at that commit so that a push in between cannot mix two versions. Each file is
 * streamed into a temporary file in {@code blobs/}, renamed to {@code blobs/<etag>} when complete (so a failure
 * leaves no half file under a real name), and linked from {@code snapshots/<commit>/<file>}.
 *
 * <p>A snapshot already complete in the cache is used without any request; {@code HF_HUB_OFFLINE=1} never touches
 * the network; {@code HF_TOKEN} is sent as a bearer token to the endpoint's host only (not to the CDN redirects).
 */
public final class HubDownloader {
    private static final int MAX_REDIRECTS = 10;
    private static final List<String> OPTIONAL = List.of("generation_config.json", "tokenizer_config.json");

    private final HubCache cache;
    private final Map<String, String> env;
    private final PrintStream progress;
    private final HttpClient http;

    /** Progress goes to stderr when it is a terminal. */
    public HubDownloader(Map<String, String> env) {
        this(env, consoleStderr());
    }

    /** @param progress where to draw progress bars, or null for none */
    public HubDownloader(Map<String, String> env, PrintStream progress) {
        this.env = env;
        this.cache = new HubCache(env);
        this.progress = progress;
        // Redirects are followed by hand, to keep the token away from other hosts.
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(30)).build();
    }

    private static PrintStream consoleStderr() {
        Console c = System.console();
        return c != null && c.isTerminal() ? System.err : null;
    }

    public HubCache cache() {
        return cache;
    }

    /** The snapshot directory of {@code id}, downloading what the cache lacks; loadable with {@link HfDirectory}. */
    public Path snapshot(HubCache.HubId id) throws IOException {
        String known = cache.localCommit(id);
        if (known != null && HubCache.missingFiles(cache.snapshotDir(id.repo(), known)).isEmpty()) {
            return cache.snapshotDir(id.repo(), known);
        }
        if (cache.offline()) {
            String what = known == null ? "nothing cached for it"
                    : "missing " + HubCache.missingFiles(cache.snapshotDir(id.repo(), known));
            throw new IOException("HF_HUB_OFFLINE is set and " + id + " is not complete in the cache "
                    + cache.repoDir(id.repo()) + " (" + what + ")");
        }
        String token = cache.token();
        String commit = fetch(id.repo(), id.revision(), "config.json", true, token);
        if (!commit.equals(id.revision())) {
            writeRef(id, commit);
        }
        Path snap = cache.snapshotDir(id.repo(), commit);
        if (!Files.exists(snap.resolve("tokenizer.json"))) {
            fetch(id.repo(), commit, "tokenizer.json", true, token);
        }
        for (String f : OPTIONAL) {
            if (!Files.exists(snap.resolve(f))) {
                fetch(id.repo(), commit, f, false, token);
            }
        }
        if (!Files.exists(snap.resolve(Safetensors.SINGLE_FILE)) && !Files.exists(snap.resolve(Safetensors.INDEX_FILE))
                && fetch(id.repo(), commit, Safetensors.SINGLE_FILE, false, token) == null
                && fetch(id.repo(), commit, Safetensors.INDEX_FILE, false, token) == null) {
            throw new IOException(id + " has neither " + Safetensors.SINGLE_FILE + " nor " + Safetensors.INDEX_FILE
                    + " (only safetensors weights are supported)");
        }
        if (Files.exists(snap.resolve(Safetensors.INDEX_FILE))) {
            for (String shard : new TreeSet<>(Safetensors.weightMap(snap.resolve(Safetensors.INDEX_FILE)).values())) {
                if (!Files.exists(snap.resolve(shard))) {
                    fetch(id.repo(), commit, shard, true, token);
                }
            }
        }
        return snap;
    }

    /**
     * Downloads one file into the cache and links it into its snapshot.
     *
     * @return the commit it belongs to, or null when it does not exist and is not {@code required}
     */
    private String fetch(String repo, String revision, String file, boolean required, String token) throws IOException {
        URI endpoint = URI.create(env.getOrDefault("HF_ENDPOINT", "https://huggingface.co").replaceAll("/+$", "") + "/");
        URI uri = endpoint.resolve(repo + "/resolve/" + encode(revision) + "/" + encodePath(file));
        String commit = null;
        String etag = null;
        HttpResponse<InputStream> resp = null;
        for (int hop = 0; ; hop++) {
            HttpRequest.Builder req = HttpRequest.newBuilder(uri).GET().header("User-Agent", "pairwise/0.1");
            if (token != null && Objects.equals(uri.getAuthority(), endpoint.getAuthority())) {
                req.header("Authorization", "Bearer " + token);
            }
            try {
                resp = http.send(req.build(), HttpResponse.BodyHandlers.ofInputStream());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while downloading " + uri, e);
            } catch (IOException e) {
                throw new IOException("cannot reach " + uri + ": " + e, e);
            }
            // The hub's own answer carries these; a CDN it redirects to does not.
            java.net.http.HttpHeaders h = resp.headers();
            commit = commit != null ? commit : h.firstValue("X-Repo-Commit").orElse(null);
            etag = etag != null ? etag : h.firstValue("X-Linked-Etag").or(() -> h.firstValue("ETag"))
                    .map(HubDownloader::normalizeEtag).orElse(null);
            int status = resp.statusCode();
            if (status < 300 || status >= 400) {
                break;
            }
            resp.body().close();
            String location = resp.headers().firstValue("Location").orElse(null);
            if (location == null || hop >= MAX_REDIRECTS) {
                throw new IOException(uri + ": HTTP " + status + " redirect " + (location == null ? "without Location"
                        : "loop"));
            }
            uri = uri.resolve(location);
        }
        try (InputStream body = resp.body()) {
            int status = resp.statusCode();
            String error = resp.headers().firstValue("X-Error-Code").orElse("");
            if (status == 404 && !required && !error.equals("RepositoryNotFound") && !error.equals("RevisionNotFound")) {
                return null;
            }
            if (status == 404) {
                throw new IOException("not found on the hub: " + repo + " " + file + " at revision " + revision
                        + " (" + uri + (error.isEmpty() ? "" : ", " + error) + ")");
            }
            if (status == 401 || status == 403) {
                throw new IOException("access denied (HTTP " + status + (error.isEmpty() ? "" : ", " + error) + ") to "
                        + repo + ": it may not exist, or be private or gated; "
                        + (token == null ? "set HF_TOKEN to a token that can read it"
                                : "the token in HF_TOKEN cannot read it"));
            }
            if (status != 200) {
                throw new IOException(uri + ": HTTP " + status);
            }
            if (commit == null || !HubCache.isCommitHash(commit)) {
                throw new IOException(uri + ": the answer has no X-Repo-Commit header; is HF_ENDPOINT a hub?");
            }
            Path blob = store(body, etag, resp.headers().firstValueAsLong("Content-Length").orElse(-1), file,
                    cache.repoDir(repo).resolve("blobs"));
            link(cache.snapshotDir(repo, commit).resolve(file), blob);
            return commit;
        }
    }

    /** Streams the body into blobs/, verifying length and (for LFS files, whose etag is one) the sha256. */
    private Path store(InputStream body, String etag, long length, String file, Path blobs) throws IOException {
        Files.createDirectories(blobs);
        if (etag != null && Files.exists(blobs.resolve(etag))) {
            return blobs.resolve(etag);
        }
        Path tmp = blobs.resolve((etag == null ? "download" : etag) + "." + UUID.randomUUID() + ".incomplete");
        try {
            MessageDigest sha = sha256();
            long n = 0;
            DownloadProgress bar = new DownloadProgress(progress, file, length);
            try (OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW)) {
                byte[] buf = new byte[1 << 16];
                for (int r; (r = body.read(buf)) > 0; ) {
                    out.write(buf, 0, r);
                    sha.update(buf, 0, r);
                    n += r;
                    bar.advance(r);
                }
            }
            bar.finish();
            if (length >= 0 && n != length) {
                throw new IOException(file + ": got " + n + " of " + length + " bytes");
            }
            String digest = HexFormat.of().formatHex(sha.digest());
            if (etag != null && etag.matches("[0-9a-f]{64}") && !etag.equals(digest)) {
                throw new IOException(file + ": sha256 " + digest + " does not match the hub's " + etag);
            }
            Path blob = blobs.resolve(etag != null ? etag : digest);
            Files.move(tmp, blob, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return blob;
        } catch (IOException e) {
            throw new IOException("downloading " + file + " failed: " + e.getMessage(), e);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** A relative symlink, as huggingface_hub makes, so that the cache can be moved; a copy where links fail. */
    private static void link(Path link, Path blob) throws IOException {
        Files.createDirectories(link.getParent());
        Path tmp = link.resolveSibling("." + link.getFileName() + "." + UUID.randomUUID() + ".link");
        try {
            Files.createSymbolicLink(tmp, link.getParent().relativize(blob));
        } catch (UnsupportedOperationException | IOException e) {
            Files.copy(blob, tmp);
        }
        Files.move(tmp, link, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private void writeRef(HubCache.HubId id, String commit) throws IOException {
        Path ref = cache.repoDir(id.repo()).resolve("refs").resolve(id.revision());
        Files.createDirectories(ref.getParent());
        Path tmp = ref.resolveSibling("." + ref.getFileName() + "." + UUID.randomUUID());
        Files.writeString(tmp, commit);
        Files.move(tmp, ref, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** As huggingface_hub: drop the weak-validator prefix and the quotes. */
    static String normalizeEtag(String etag) {
        String e = etag.startsWith("W/") ? etag.substring(2) : etag;
        e = e.replace("\"", "").trim();
        if (e.isEmpty() || !e.matches("[A-Za-z0-9._-]+")) {
            return null; // unusable as a file name; fall back to the content's sha256
        }
        return e;
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String encodePath(String path) {
        StringBuilder b = new StringBuilder();
        for (String seg : path.split("/")) {
            b.append(b.isEmpty() ? "" : "/").append(encode(seg));
        }
        return b.toString();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
