package org.pairwise.model.load;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.pairwise.model.DemoModel;
import org.pairwise.model.tokenizer.TokenizerJsonBuilder;

/**
 * What the user names with {@code --model}: "demo", an HF directory, a {@code .gguf} file, a llama2.c {@code .bin},
 * or a hub id {@code org/name[@revision]} (only when no such local path exists).
 */
public final class ModelSource {
    private ModelSource() {}

    /** As {@link #open(String, Path, Map, PrintStream)} with the process environment and a console progress bar. */
    public static Checkpoint open(String spec, Path tokenizerOverrideOrNull) throws IOException {
        return open(spec, tokenizerOverrideOrNull, System.getenv(), null);
    }

    /**
     * @param tokenizerOverrideOrNull a llama2.c tokenizer.bin for a {@code .bin} model; for the other formats a
     *                                tokenizer.json file, or a directory holding tokenizer.json (and optionally
     *                                tokenizer_config.json), replacing the model's own
     * @param env                     read for HF_HOME, HF_HUB_CACHE, HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE
     * @param progress                download progress, or null for stderr when it is a terminal
     */
    public static Checkpoint open(String spec, Path tokenizerOverrideOrNull, Map<String, String> env,
            PrintStream progress) throws IOException {
        if (spec.equals(DemoModel.SPEC)) {
            return withTokenizer(DemoModel.create(), tokenizerOverrideOrNull);
        }
        Path path = localPath(spec);
        if (path != null && Files.isDirectory(path)) {
            return withTokenizer(HfDirectory.load(path, spec), tokenizerOverrideOrNull);
        }
        if (path != null && Files.isRegularFile(path)) {
            String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
            if (name.endsWith(".gguf")) {
                return withTokenizer(GgufModel.load(path, spec), tokenizerOverrideOrNull);
            }
            if (name.endsWith(".bin")) {
                return Llama2c.load(path, tokenizerOverrideOrNull, spec);
            }
            throw new IllegalArgumentException("unknown model file type: " + spec
                    + " (expected a directory, a .gguf file or a llama2.c .bin file)");
        }
        if (HubCache.looksLikeHubId(spec)) {
            HubDownloader hub = progress == null ? new HubDownloader(env) : new HubDownloader(env, progress);
            Path snapshot;
            try {
                snapshot = hub.snapshot(HubCache.parse(spec));
            } catch (IOException e) {
                throw new IOException(spec + " is not a local path, and the hub failed: " + e.getMessage(), e);
            }
            return withTokenizer(HfDirectory.load(snapshot, spec), tokenizerOverrideOrNull);
        }
        throw new IOException("no such file or directory: " + spec);
    }

    private static Path localPath(String spec) {
        try {
            return Path.of(spec);
        } catch (InvalidPathException e) {
            return null;
        }
    }

    private static Checkpoint withTokenizer(Checkpoint c, Path override) throws IOException {
        if (override == null) {
            return c;
        }
        try {
            String json;
            String config = c.tokenizerConfigJson();
            if (Files.isDirectory(override)) {
                json = Files.readString(override.resolve("tokenizer.json"));
                Path tc = override.resolve("tokenizer_config.json");
                config = Files.exists(tc) ? Files.readString(tc) : config;
            } else if (override.toString().endsWith(".bin")) {
                json = TokenizerJsonBuilder.llama2c(override, c.config().vocabSize());
            } else {
                json = Files.readString(override);
            }
            return new Checkpoint(c.source(), c.format(), c.config(), c.tensors(), json, config, c.resources());
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }
}
