package org.pairwise.server.config;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.pairwise.model.DemoModel;
import org.pairwise.trainer.config.DpoConfig;

/**
 * Everything {@code pairwise serve} needs: the serving fields below plus a {@link DpoConfig} for the training fields,
 * which keep TRL's names. One flat namespace for users: a flag {@code --kebab-name}, an environment variable
 * {@code PAIRWISE_UPPER_SNAKE} or a snake_case key in a JSON/YAML file sets a serving field when the name is one, else
 * the DPO field of that name; {@code batch_size} is an alias of {@code per_device_train_batch_size}.
 *
 * <p>Precedence, lowest first: {@link #defaults()}, {@code --config} file, environment, flags ({@link #load}). Every
 * field is documented in {@link #DOCS}, which is also what {@code serve --help} prints. Invalid values fail with an
 * {@link IllegalArgumentException} that names the field.
 */
public record ServeConfig(
        String model,
        String tokenizer,
        String adapter,
        String backend,
        int generationThreads,
        int trainingThreads,
        String host,
        int port,
        String dataDir,
        String adminToken,
        String annotation,
        List<String> annotatorTokens,
        String prompts,
        int poolSize,
        int maxNewTokens,
        double temperature,
        double topP,
        int topK,
        long batchWindowMs,
        int publishEvery,
        int keepCheckpoints,
        boolean trainOnBothBad,
        int maxBodyBytes,
        int writeQueueCapacity,
        String cors,
        int pairViews,
        boolean benchRoute,
        DpoConfig dpo) {

    /** Serving fields: snake_case name -> meaning and default (the DPO fields are documented by DpoConfig). */
    public static final Map<String, String> DOCS = docs();

    /** Names that stand for a DPOConfig field under a shorter, serving-side name. */
    public static final Map<String, String> ALIASES = Map.of("batch_size", "per_device_train_batch_size");

    public ServeConfig {
        nonBlank(model, "model");
        nonBlank(backend, "backend");
        nonBlank(host, "host");
        nonBlank(dataDir, "data_dir");
        atLeast(0, generationThreads, "generation_threads");
        atLeast(0, trainingThreads, "training_threads");
        if (port < 0 || port > 65535) {
            throw bad("port", "must be in 0..65535, got " + port);
        }
        if (adminToken != null && adminToken.length() < 8) {
            throw bad("admin_token", "must be at least 8 characters");
        }
        if (!"open".equals(annotation) && !"token".equals(annotation)) {
            throw bad("annotation", "must be open or token, got '" + annotation + "'");
        }
        annotatorTokens = List.copyOf(annotatorTokens);
        for (String t : annotatorTokens) {
            int colon = t.indexOf(':');
            if (colon <= 0 || colon == t.length() - 1) {
                throw bad("annotator_tokens", "entries are NAME:TOKEN, got '" + t + "'");
            }
        }
        if (annotation.equals("token") && annotatorTokens.isEmpty()) {
            throw bad("annotator_tokens", "token annotation needs at least one NAME:TOKEN");
        }
        atLeast(1, poolSize, "pool_size");
        atLeast(1, maxNewTokens, "max_new_tokens");
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw bad("temperature", "must be a finite number >= 0, got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw bad("top_p", "must be in (0, 1], got " + topP);
        }
        atLeast(0, topK, "top_k");
        if (batchWindowMs < 0) {
            throw bad("batch_window_ms", "must be >= 0, got " + batchWindowMs);
        }
        atLeast(1, publishEvery, "publish_every");
        atLeast(1, keepCheckpoints, "keep_checkpoints");
        if (trainOnBothBad) {
            // Both-bad votes carry no preference direction; a penalty loss for them is not implemented, and a field
            // that silently did nothing would mislead.
            throw bad("train_on_both_bad", "true is not supported yet: both-bad votes are stored and exported, "
                    + "not trained on");
        }
        atLeast(1024, maxBodyBytes, "max_body_bytes");
        atLeast(1, writeQueueCapacity, "write_queue_capacity");
        nonBlank(cors, "cors");
        atLeast(1, pairViews, "pair_views");
        if (dpo == null) {
            throw bad("dpo", "must be set");
        }
    }

    /**
     * Defaults for serving. The DPO fields keep DPOConfig's defaults except where an online stream differs from an
     * offline dataset: smaller batches (votes trickle in), DESIGN's typical 5e-6 learning rate, and frequent
     * checkpoints (steps are rare, and a restart should lose little).
     */
    public static ServeConfig defaults() {
        DpoConfig dpo = DpoConfig.defaults().withOverrides(Map.of(
                "per_device_train_batch_size", "4", "learning_rate", "5e-6", "save_steps", "10"));
        return new ServeConfig(DemoModel.SPEC, null, null, "cpu", 0, 0, "127.0.0.1", 8080, "data", null, "open",
                List.of(), null, 4, 64, 1.0, 1.0, 0, 30_000, 2, 3, false, 1 << 20, 10_000, "off", 1, false, dpo);
    }

    /** defaults, then {@code file} (may be null), then {@code PAIRWISE_*} variables, then {@code flags}. */
    public static ServeConfig load(Path file, Map<String, String> env, Map<String, String> flags) throws IOException {
        ServeConfig c = defaults();
        if (file != null) {
            c = c.withOverrides(ServeConfigCodec.readFile(file), file.toString());
        }
        return c.withOverrides(ServeConfigCodec.fromEnv(env), "environment").withOverrides(flags);
    }

    /** This configuration with fields set from text; names in snake_case or kebab-case, serving or DPO fields. */
    public ServeConfig withOverrides(Map<String, String> overrides) {
        return withOverrides(overrides, null);
    }

    ServeConfig withOverrides(Map<String, String> overrides, String source) {
        try {
            return ServeConfigCodec.apply(this, overrides);
        } catch (IllegalArgumentException e) {
            throw source == null ? e : new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    /** Whether {@code name} (snake or kebab case) is a serving field, a DPO field or an alias. */
    public static boolean isField(String name) {
        String n = name.replace('-', '_');
        return DOCS.containsKey(n) || ALIASES.containsKey(n) || DpoConfig.fieldNames().contains(n);
    }

    public Path dataPath() {
        return Path.of(dataDir);
    }

    /** Where the trainer's checkpoint-N directories go: output_dir, relative to data_dir unless absolute. */
    public Path trainerDir() {
        return dataPath().resolve(dpo.outputDir());
    }

    public boolean isDemoModel() {
        return model.equals(DemoModel.SPEC);
    }

    /** Thread budgets resolved against this machine: generation gets every core, training half (at least one). */
    public int resolvedGenerationThreads() {
        return generationThreads > 0 ? generationThreads : Runtime.getRuntime().availableProcessors();
    }

    public int resolvedTrainingThreads() {
        return trainingThreads > 0 ? trainingThreads : Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
    }

    private static Map<String, String> docs() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("model", "model to serve: a local HF directory, a .gguf file, a llama2.c .bin, a hub id (org/name), or "
                + "'demo' (built-in tiny model and prompt set). Default: demo.");
        d.put("tokenizer", "tokenizer file for a llama2.c checkpoint (tokenizer.bin). Default: next to the model.");
        d.put("adapter", "PEFT LoRA adapter directory to start from (policy version 0, and the DPO reference). "
                + "Default: none (the base model).");
        d.put("backend", "compute backend: cpu or auto. Default: cpu.");
        d.put("generation_threads", "threads for generation (0 = one per core). Generation has priority: people "
                + "are waiting. Default: 0.");
        d.put("training_threads", "threads for DPO steps (0 = half the cores, at least 1). Default: 0.");
        d.put("host", "address to listen on. Default: 127.0.0.1.");
        d.put("port", "HTTP port (0 = any free port). Default: 8080.");
        d.put("data_dir", "SQLite file, checkpoints, published adapters and the admin token. Default: ./data.");
        d.put("admin_token", "token for the admin routes (Authorization: Bearer TOKEN). Default: generated at first "
                + "start, stored in DATA_DIR/admin_token (mode 0600) and printed once.");
        d.put("annotation", "open (anyone may vote) or token (votes need an annotator token). Default: open.");
        d.put("annotator_tokens", "NAME:TOKEN entries for token annotation, comma-separated; the vote's annotator "
                + "is NAME. Default: none.");
        d.put("prompts", "prompt file: JSONL ({\"prompt\": ...} or {\"messages\": [...]}) or plain text lines. "
                + "Default: the built-in story starters.");
        d.put("pool_size", "ready pairs kept in memory so GET /api/pairs/next never waits. Default: 4.");
        d.put("max_new_tokens", "tokens per response at most. Default: 64.");
        d.put("temperature", "sampling temperature (0 = greedy; both sides then agree). Default: 1.0.");
        d.put("top_p", "nucleus sampling mass. Default: 1.0.");
        d.put("top_k", "keep the k most likely tokens (0 = all). Default: 0.");
        d.put("batch_window_ms", "train a partial batch once its first vote has waited this long (votes are slow). "
                + "Default: 30000.");
        d.put("publish_every", "optimizer steps between policy versions. Default: 2.");
        d.put("keep_checkpoints", "checkpoint-N directories kept under output_dir. Default: 3.");
        d.put("train_on_both_bad", "train on both-bad votes (not supported yet; they are stored and exported). "
                + "Default: false.");
        d.put("max_body_bytes", "largest request body; larger ones get 413. Default: 1048576.");
        d.put("write_queue_capacity", "votes waiting for the SQLite writer; beyond it votes get 429. "
                + "Default: 10000.");
        d.put("cors", "off, or the origin allowed to call the API cross-site (e.g. https://example.org, or *). "
                + "Default: off.");
        d.put("pair_views", "how many requests each ready pair is served to before it leaves the pool (each person "
                + "still votes on a pair once). 1 gives every request a fresh pair; more lets a crowd outpace the "
                + "generator without waiting, several people judging each pair. Default: 1.");
        d.put("bench_route", "expose GET /api/bench/constant, a bare route returning a constant, so a load test can "
                + "measure the HTTP framework's own ceiling on this server. Default: false.");
        return java.util.Collections.unmodifiableMap(d);
    }

    static IllegalArgumentException bad(String field, String why) {
        return new IllegalArgumentException(field + ": " + why);
    }

    private static void nonBlank(String v, String field) {
        if (v == null || v.isBlank()) {
            throw bad(field, "must not be empty");
        }
    }

    private static void atLeast(int min, int v, String field) {
        if (v < min) {
            throw bad(field, "must be >= " + min + ", got " + v);
        }
    }
}
