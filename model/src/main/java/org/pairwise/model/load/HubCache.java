package org.pairwise.model.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The Hugging Face hub cache, laid out as huggingface_hub lays it out so that both share files:
 * {@code <hub>/models--org--name/refs/<revision>} holds a commit hash, {@code snapshots/<commit>/<file>} are symlinks
 * into {@code blobs/<etag>}. {@code <hub>} is {@code HF_HUB_CACHE}, else {@code HF_HOME/hub}, else
 * {@code XDG_CACHE_HOME/huggingface/hub}, else {@code ~/.cache/huggingface/hub}. The environment is passed in so
 * that tests can point it elsewhere.
 */
public final class HubCache {
    private static final Pattern REPO_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final Pattern REVISION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]*");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    /** {@code org/name[@revision]}; revision "main" when not given. */
    public record HubId(String repo, String revision) {
        @Override
        public String toString() {
            return repo + "@" + revision;
        }
    }

    private final Map<String, String> env;

    public HubCache(Map<String, String> env) {
        this.env = env;
    }

    /** Whether {@code spec} has the shape of a hub id ({@code org/name}, optionally {@code @revision}). */
    public static boolean looksLikeHubId(String spec) {
        int at = spec.indexOf('@');
        String repo = at < 0 ? spec : spec.substring(0, at);
        return REPO_ID.matcher(repo).matches() && !repo.contains("..")
                && (at < 0 || validRevision(spec.substring(at + 1)));
    }

    public static HubId parse(String spec) {
        if (!looksLikeHubId(spec)) {
            throw new IllegalArgumentException("not a hub id (org/name or org/name@revision): " + spec);
        }
        int at = spec.indexOf('@');
        return at < 0 ? new HubId(spec, "main") : new HubId(spec.substring(0, at), spec.substring(at + 1));
    }

    private static boolean validRevision(String rev) {
        return REVISION.matcher(rev).matches() && !rev.contains("..") && !rev.endsWith("/");
    }

    public static boolean isCommitHash(String revision) {
        return COMMIT.matcher(revision).matches();
    }

    public Path hubDir() {
        if (set("HF_HUB_CACHE")) {
            return Path.of(env.get("HF_HUB_CACHE"));
        }
        return hfHome().resolve("hub");
    }

    Path hfHome() {
        if (set("HF_HOME")) {
            return Path.of(env.get("HF_HOME"));
        }
        Path cache = set("XDG_CACHE_HOME") ? Path.of(env.get("XDG_CACHE_HOME"))
                : Path.of(System.getProperty("user.home"), ".cache");
        return cache.resolve("huggingface");
    }

    public Path repoDir(String repo) {
        return hubDir().resolve("models--" + repo.replace("/", "--"));
    }

    /** HF_HUB_OFFLINE as huggingface_hub reads it: 1, true, yes or on. */
    public boolean offline() {
        String v = env.getOrDefault("HF_HUB_OFFLINE", "").trim().toLowerCase(Locale.ROOT);
        return v.equals("1") || v.equals("true") || v.equals("yes") || v.equals("on");
    }

    /** HF_TOKEN, else the token file huggingface-cli login writes (HF_TOKEN_PATH or HF_HOME/token); null if none. */
    public String token() throws IOException {
        if (set("HF_TOKEN")) {
            return env.get("HF_TOKEN").trim();
        }
        Path file = set("HF_TOKEN_PATH") ? Path.of(env.get("HF_TOKEN_PATH")) : hfHome().resolve("token");
        if (Files.isRegularFile(file)) {
            String t = Files.readString(file).trim();
            return t.isEmpty() ? null : t;
        }
        return null;
    }

    /** The commit a revision points at locally (itself if it is a commit hash), or null when unknown. */
    public String localCommit(HubId id) throws IOException {
        if (isCommitHash(id.revision())) {
            return id.revision();
        }
        Path ref = repoDir(id.repo()).resolve("refs").resolve(id.revision());
        return Files.isRegularFile(ref) ? Files.readString(ref).trim() : null;
    }

    public Path snapshotDir(String repo, String commit) {
        return repoDir(repo).resolve("snapshots").resolve(commit);
    }

    /** Files a model snapshot still lacks for {@link HfDirectory} to load it; empty when complete. */
    public static List<String> missingFiles(Path snapshot) throws IOException {
        List<String> missing = new ArrayList<>();
        for (String f : List.of("config.json", "tokenizer.json")) {
            if (!Files.exists(snapshot.resolve(f))) {
                missing.add(f);
            }
        }
        Path index = snapshot.resolve(Safetensors.INDEX_FILE);
        if (Files.exists(index)) {
            for (String shard : new java.util.TreeSet<>(Safetensors.weightMap(index).values())) {
                if (!Files.exists(snapshot.resolve(shard))) {
                    missing.add(shard);
                }
            }
        } else if (!Files.exists(snapshot.resolve(Safetensors.SINGLE_FILE))) {
            missing.add(Safetensors.SINGLE_FILE);
        }
        return missing;
    }

    private boolean set(String key) {
        String v = env.get(key);
        return v != null && !v.isBlank();
    }
}
