package org.pairwise.server.config;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.pairwise.config.ConfigException;
import org.pairwise.config.Field;
import org.pairwise.config.Schema;
import org.pairwise.config.Type;
import org.pairwise.model.DemoModel;
import org.pairwise.server.auth.AdminToken;
import org.pairwise.server.auth.ConfiguredTokens;
import org.pairwise.server.quality.FlagRule;
import org.pairwise.server.store.PreferenceStore;
import org.pairwise.server.store.StoreLocation;
import org.pairwise.trainer.config.DpoConfig;

/**
 * Everything {@code pairwise serve} needs: the serving fields of {@link #SCHEMA} plus a {@link DpoConfig} for the
 * training fields, which keep TRL's names. One flat namespace for users: a flag {@code --kebab-name}, an environment
 * variable {@code PAIRWISE_UPPER_SNAKE} or a snake_case key in a JSON/YAML file sets a serving field when the name is
 * one, else the DPO field of that name; {@code batch_size} is an alias of {@code per_device_train_batch_size}.
 *
 * <p>Precedence, lowest first: {@link #defaults()}, {@code --config} file, environment, flags ({@link #load}). Invalid
 * values fail with a {@link ConfigException} that names the field.
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
        String store,
        String storePasswordFile,
        String adminToken,
        String annotation,
        List<String> annotatorTokens,
        List<String> viewerTokens,
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
        int authFailuresPerMinute,
        long headerTimeoutMs,
        long idleTimeoutMs,
        long bodyTimeoutMs,
        int maxConnections,
        int votesPerPair,
        int leaseSeconds,
        int undoWindow,
        String aggregation,
        double goldRate,
        boolean excludeFlagged,
        Double flagMinGoldAccuracy,
        Double flagMinAgreement,
        int flagMinVotes,
        boolean benchRoute,
        double evalFraction,
        int keepVersions,
        boolean trainOnBattles,
        String leaderboardBothBad,
        double maxKl,
        int klPairs,
        double minBattleWinRate,
        boolean cluster,
        List<String> clusterMembers,
        String clusterHost,
        int clusterPort,
        String clusterName,
        String role,
        DpoConfig dpo) {

    /**
     * The DPO fields keep DPOConfig's defaults except where an online stream differs from an offline dataset: smaller
     * batches (votes trickle in), DESIGN's typical 5e-6 learning rate, and frequent checkpoints (steps are rare, and a
     * restart should lose little).
     */
    private static final Schema<DpoConfig> SERVE_DPO = DpoConfig.SCHEMA.withDefaults("DPO settings (TRL's DPOConfig "
            + "names; output_dir is relative to data_dir)", Map.of("per_device_train_batch_size", 4,
            "learning_rate", 5e-6, "save_steps", 10));

    /** Every serving field (name, type, default, help), then the DPO fields with serve's defaults. */
    public static final Schema<ServeConfig> SCHEMA = Schema.of(ServeConfig.class, "Serve settings").fields(
            Field.of("model", Type.STRING.labelled("M"), DemoModel.SPEC,
                    "model to serve: a local HF directory, a .gguf file, a llama2.c .bin, a hub id (org/name), or "
                    + "'demo' (built-in tiny model and prompt set)"),
            Field.of("tokenizer", Type.STRING.labelled("FILE"), null,
                    "tokenizer file for a llama2.c checkpoint (tokenizer.bin); none: next to the model").allowingNull(),
            Field.of("adapter", Type.STRING.labelled("DIR"), null,
                    "PEFT LoRA adapter directory to start from (policy version 0, and the DPO reference); none: the "
                    + "base model").allowingNull(),
            Field.of("backend", Type.STRING.labelled("NAME"), "cpu", "compute backend: cpu or auto"),
            Field.of("generation_threads", Type.INT, 0, "threads for generation (0 = one per core); generation has "
                    + "priority: people are waiting"),
            Field.of("training_threads", Type.INT, 0, "threads for DPO steps (0 = half the cores, at least 1)"),
            Field.of("host", Type.STRING.labelled("HOST"), "127.0.0.1", "address to listen on"),
            Field.of("port", Type.INT, 8080, "HTTP port (0 = any free port)"),
            Field.of("data_dir", Type.STRING.labelled("DIR"), "data",
                    "SQLite file, checkpoints, published adapters and the admin token"),
            Field.of("store", Type.STRING.labelled("URL"), null, "where votes are stored: sqlite:PATH (default "
                    + "sqlite:DATA_DIR/pairwise.db) or postgresql://user:password@host:port/db (a PostgreSQL database, "
                    + "created empty by you; the password may instead come from PGPASSWORD or store_password_file)")
                    .allowingNull(),
            Field.of("store_password_file", Type.STRING.labelled("FILE"), null, "a file whose first line is the "
                    + "PostgreSQL password, when the --store URL has none (before PGPASSWORD)").allowingNull(),
            Field.of("admin_token", Type.STRING.labelled("TOKEN"), null,
                    "token for the admin routes (Authorization: Bearer TOKEN), at least " + AdminToken.MIN_LENGTH
                    + " characters; none: generated at first start (48 hex digits), stored in DATA_DIR/admin_token "
                    + "(mode 0600) and printed once")
                    .allowingNull(),
            Field.of("annotation", Type.STRING.labelled("MODE"), "open", "who may vote: open (anyone; each browser "
                    + "is an anonymous annotator, named by a cookie), token (votes need an annotator token) or "
                    + "accounts (the admin creates annotators and invites them; see POST /api/annotators)"),
            Field.of("annotator_tokens", Type.listOf(Type.STRING.labelled("NAME:TOKEN")), List.of(),
                    "NAME:TOKEN entries (tokens of " + ConfiguredTokens.MIN_LENGTH + "+ characters), comma-separated: "
                    + "Authorization: Bearer TOKEN votes as NAME (in either mode)"),
            Field.of("viewer_tokens", Type.listOf(Type.STRING.labelled("NAME:TOKEN")), List.of(),
                    "NAME:TOKEN entries for read-only dashboard access: every vote and per-annotator count, no "
                    + "voting, no admin routes"),
            Field.of("prompts", Type.STRING.labelled("FILE"), null,
                    "prompt file: JSONL ({\"prompt\": ...} or {\"messages\": [...]}) or plain text lines; none: the "
                    + "built-in story starters").allowingNull(),
            Field.of("pool_size", Type.INT, 4, "ready pairs kept in memory so GET /api/pairs/next never waits"),
            Field.of("max_new_tokens", Type.INT, 64, "tokens per response at most"),
            Field.of("temperature", Type.DOUBLE, 1.0, "sampling temperature (0 = greedy; both sides then agree)"),
            Field.of("top_p", Type.DOUBLE, 1.0, "nucleus sampling mass"),
            Field.of("top_k", Type.INT, 0, "keep the k most likely tokens (0 = all)"),
            Field.of("batch_window_ms", Type.LONG, 30_000L, "train a partial batch once its first vote has waited "
                    + "this long (votes are slow)"),
            Field.of("publish_every", Type.INT, 2, "optimizer steps between policy versions"),
            Field.of("keep_checkpoints", Type.INT, 3, "checkpoint-N directories kept under output_dir"),
            Field.of("train_on_both_bad", Type.BOOLEAN, false, "train on both-bad votes (not supported yet; they "
                    + "are stored and exported)"),
            Field.of("max_body_bytes", Type.INT, 1 << 20, "largest request body; larger ones get 413"),
            Field.of("write_queue_capacity", Type.INT, 10_000, "votes waiting for the store's writer; beyond it "
                    + "votes get 429"),
            Field.of("cors", Type.STRING.labelled("ORIGIN"), "off", "the origin allowed to call the API cross-site "
                    + "(e.g. https://example.org, or *), or off"),
            Field.of("auth_failures_per_minute", Type.INT, 10, "wrong tokens one client (IP address; IPv6 /64) "
                    + "may present per minute before every token it presents gets 429 with Retry-After"),
            Field.of("header_timeout_ms", Type.LONG, 10_000L, "a new connection that has not sent a complete "
                    + "request head within this is closed (slowloris)"),
            Field.of("idle_timeout_ms", Type.LONG, 120_000L, "a kept-alive connection with no request in progress "
                    + "is closed after this"),
            Field.of("body_timeout_ms", Type.LONG, 30_000L, "a request body not received in full within this "
                    + "after its head gets 408 and the connection is closed"),
            Field.of("max_connections", Type.INT, 4096, "open connections at most; more are closed at once (keep "
                    + "it below the process's open-file limit)"),
            Field.of("votes_per_pair", Type.INT, 1, "overlap k: each pair is handed to at most k different "
                    + "annotators (never twice to one), pairs short of votes first; more lets a crowd outpace the "
                    + "generator, several people judging each pair"),
            Field.of("lease_seconds", Type.INT, 600, "a pair handed out and not voted on or skipped within this "
                    + "goes back to the queue for someone else"),
            Field.of("undo_window", Type.INT, 10, "seconds in which a person may change or withdraw a vote; the "
                    + "trainer takes a vote only after its window has passed"),
            Field.of("aggregation", Type.STRING.labelled("MODE"), "each", "how votes become training labels: each "
                    + "(every A/B vote by itself), majority (one label per pair from its k votes; ties not trained) "
                    + "or soft (majority with label_smoothing = the minority's share, cDPO)"),
            Field.of("gold_rate", Type.DOUBLE, 0.05, "share of served pairs drawn from the uploaded gold pairs "
                    + "(known answers, never trained on) while a person has gold pairs left to see"),
            Field.of("exclude_flagged", Type.BOOLEAN, true, "votes of flagged annotators (by the admin, or by "
                    + "the flag_min_* thresholds) do not reach the trainer (kept, and trainable again once "
                    + "un-flagged)"),
            Field.of("flag_min_gold_accuracy", Type.DOUBLE, null, "flag an annotator automatically when their "
                    + "gold accuracy is confidently below this (0..1): the upper end of its 95% Wilson interval "
                    + "under it, after flag_min_votes gold votes; none: off").allowingNull(),
            Field.of("flag_min_agreement", Type.DOUBLE, null, "flag an annotator automatically when their "
                    + "agreement with the majority of the others is confidently below this (0..1): the upper end "
                    + "of its 95% Wilson interval under it, after flag_min_votes compared votes; none: off")
                    .allowingNull(),
            Field.of("flag_min_votes", Type.INT, 10, "gold votes (gold rule) or votes compared with a clear "
                    + "majority (agreement rule) an annotator needs before the thresholds decide; only the admin "
                    + "un-flags, and after an un-flag only later votes count"),
            Field.of("bench_route", Type.BOOLEAN, false, "expose GET /api/bench/constant, a bare route returning a "
                    + "constant, so a load test can measure the HTTP framework's own ceiling on this server"),
            Field.of("eval_fraction", Type.DOUBLE, 0.1, "share of served pairs that are blind battles between two "
                    + "policy versions (the current one against the reference v0, earlier kept versions or pinned "
                    + "ones), once two versions exist; 0 = none"),
            Field.of("keep_versions", Type.INT, 5, "published policy versions kept on disk for battles and rollback "
                    + "(the newest ones; version 0 and pinned versions are always kept)"),
            Field.of("train_on_battles", Type.BOOLEAN, false, "battle votes also become training items (off-policy "
                    + "pairs); by default they are evaluation data only"),
            Field.of("leaderboard_both_bad", Type.STRING.labelled("MODE"), "tie", "what a both-bad vote on a battle "
                    + "is on the leaderboard: tie (half a win to each side) or exclude"),
            Field.of("max_kl", Type.DOUBLE, 0.0, "KL guard: publishing stops and the last good version is served "
                    + "when the served policy's KL to the reference (nats per response, on its fresh samples) "
                    + "exceeds this with 95% confidence (mean - 1.96 standard errors above it); 0 = off"),
            Field.of("kl_pairs", Type.INT, 4, "fresh pairs of the served version (two samples each) the KL guard "
                    + "measures it on, once they are stored (at most pool_size, or a version nobody votes on is "
                    + "never measured)"),
            Field.of("min_battle_win_rate", Type.DOUBLE, 0.0, "battle guard: publishing stops and the previous "
                    + "version is served when the served version's battle win rate against it is below this with "
                    + "95% confidence (Wilson upper bound below it); 0 = off"),
            Field.of("cluster", Type.BOOLEAN, false, "join a cluster of Pairwise nodes (Vert.x clustered over "
                    + "Hazelcast, TCP-IP join, no multicast); needs a PostgreSQL --store shared by every node"),
            Field.of("cluster_members", Type.listOf(Type.STRING.labelled("HOST[:PORT]")), List.of("127.0.0.1"),
                    "where the other nodes are, comma-separated; a host without a port is tried on cluster_port "
                    + "and the 19 ports above it"),
            Field.of("cluster_host", Type.STRING.labelled("HOST"), "127.0.0.1", "the address this node's cluster "
                    + "and event-bus connections bind to and announce (the other nodes must reach it)"),
            Field.of("cluster_port", Type.INT, 5701, "the first cluster port tried; a node takes the first free "
                    + "one of it and the 19 above it"),
            Field.of("cluster_name", Type.STRING.labelled("NAME"), "pairwise", "nodes join only nodes of the same "
                    + "name (two campaigns on one host keep apart)"),
            Field.of("role", Type.STRING.labelled("ROLE"), "all", "what this node does in a cluster: all (serves "
                    + "HTTP and may train), http (serves, never trains) or trainer (may train, serves too); exactly "
                    + "one node trains at a time"))
            .nest(SERVE_DPO)
            .alias("batch_size", "per_device_train_batch_size")
            .alias("pair_views", "votes_per_pair")
            .build();

    /** Serving fields: snake_case name -> help line with its default (the DPO fields are DpoConfig's). */
    public static final Map<String, String> DOCS = docs();

    /** Names that stand for a DPOConfig field under a shorter, serving-side name. */
    public static final Map<String, String> ALIASES = SCHEMA.aliases();

    public ServeConfig {
        nonBlank(model, "model");
        nonBlank(backend, "backend");
        nonBlank(host, "host");
        nonBlank(dataDir, "data_dir");
        try {
            StoreLocation.parse(store, Path.of(dataDir));
        } catch (StoreLocation.BadLocation e) {
            throw bad("store", e.getMessage());
        }
        if (storePasswordFile != null && storePasswordFile.isBlank()) {
            throw bad("store_password_file", "must not be empty");
        }
        atLeast(0, generationThreads, "generation_threads");
        atLeast(0, trainingThreads, "training_threads");
        if (port < 0 || port > 65535) {
            throw bad("port", "must be in 0..65535, got " + port);
        }
        if (adminToken != null && adminToken.length() < AdminToken.MIN_LENGTH) {
            throw bad("admin_token", "must be at least " + AdminToken.MIN_LENGTH + " characters (got "
                    + adminToken.length() + "); e.g. openssl rand -hex 24");
        }
        if (!"open".equals(annotation) && !"token".equals(annotation) && !"accounts".equals(annotation)) {
            throw bad("annotation", "must be open, token or accounts, got '" + annotation + "'");
        }
        annotatorTokens = List.copyOf(annotatorTokens);
        viewerTokens = List.copyOf(viewerTokens);
        tokenEntries("annotator_tokens", annotatorTokens);
        tokenEntries("viewer_tokens", viewerTokens);
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
        atLeast(1, authFailuresPerMinute, "auth_failures_per_minute");
        atLeast(1, headerTimeoutMs, "header_timeout_ms");
        atLeast(1, idleTimeoutMs, "idle_timeout_ms");
        atLeast(1, bodyTimeoutMs, "body_timeout_ms");
        atLeast(1, maxConnections, "max_connections");
        atLeast(1, votesPerPair, "votes_per_pair");
        atLeast(1, leaseSeconds, "lease_seconds");
        atLeast(0, undoWindow, "undo_window");
        if (!List.of("each", "majority", "soft").contains(aggregation)) {
            throw bad("aggregation", "must be each, majority or soft, got '" + aggregation + "'");
        }
        if (!(goldRate >= 0 && goldRate <= 1)) {
            throw bad("gold_rate", "must be in [0, 1], got " + goldRate);
        }
        unitInterval(flagMinGoldAccuracy, "flag_min_gold_accuracy");
        unitInterval(flagMinAgreement, "flag_min_agreement");
        atLeast(1, flagMinVotes, "flag_min_votes");
        if (!(evalFraction >= 0 && evalFraction <= 1)) {
            throw bad("eval_fraction", "must be in [0, 1], got " + evalFraction);
        }
        atLeast(1, keepVersions, "keep_versions");
        if (!"tie".equals(leaderboardBothBad) && !"exclude".equals(leaderboardBothBad)) {
            throw bad("leaderboard_both_bad", "must be tie or exclude, got '" + leaderboardBothBad + "'");
        }
        if (!(maxKl >= 0) || Double.isInfinite(maxKl)) {
            throw bad("max_kl", "must be a finite number >= 0 (0 = off), got " + maxKl);
        }
        atLeast(1, klPairs, "kl_pairs");
        if (!(minBattleWinRate >= 0 && minBattleWinRate < 1)) {
            throw bad("min_battle_win_rate", "must be in [0, 1) (0 = off), got " + minBattleWinRate);
        }
        clusterMembers = List.copyOf(clusterMembers);
        if (cluster && clusterMembers.isEmpty()) {
            throw bad("cluster_members", "needs at least one HOST[:PORT]");
        }
        for (String m : clusterMembers) {
            if (!m.matches("[A-Za-z0-9.\\-]+(:\\d{1,5})?|\\[[0-9A-Fa-f:]+\\](:\\d{1,5})?")) {
                throw bad("cluster_members", "expected HOST or HOST:PORT entries, comma-separated");
            }
        }
        nonBlank(clusterHost, "cluster_host");
        if (clusterPort < 1 || clusterPort > 65535 - 19) {
            throw bad("cluster_port", "must be in 1.." + (65535 - 19) + ", got " + clusterPort);
        }
        if (!clusterName.matches("[A-Za-z0-9._-]{1,64}")) {
            throw bad("cluster_name", "letters, digits, '.', '_' and '-' only (1-64)");
        }
        if (!List.of("all", "http", "trainer").contains(role)) {
            throw bad("role", "must be all, http or trainer, got '" + role + "'");
        }
        if (cluster && !(StoreLocation.parse(store, Path.of(dataDir)) instanceof StoreLocation.PostgresDatabase)) {
            throw bad("cluster", "the nodes of a cluster share one PostgreSQL database: give --store "
                    + "postgresql://user@host:port/db (every node its own --data-dir)");
        }
        if (dpo == null) {
            throw bad("dpo", "must be set");
        }
    }

    /** The finaliser's settings: how votes become the trainer's items. */
    public PreferenceStore.Finalising finalising() {
        return new PreferenceStore.Finalising(PreferenceStore.Aggregation.valueOf(aggregation.toUpperCase(
                java.util.Locale.ROOT)), undoWindow * 1000L, excludeFlagged, trainOnBattles);
    }

    /** The automatic flags' thresholds (off unless flag_min_gold_accuracy or flag_min_agreement is set). */
    public FlagRule flagRule() {
        return new FlagRule(flagMinGoldAccuracy, flagMinAgreement, flagMinVotes);
    }

    /** Every field at serve's default. */
    public static ServeConfig defaults() {
        return SCHEMA.defaults();
    }

    /** defaults, then {@code file} (may be null), then {@code PAIRWISE_*} variables, then {@code flags}. */
    public static ServeConfig load(Path file, Map<String, String> env, Map<String, String> flags) throws IOException {
        return SCHEMA.load(file, env, flags);
    }

    /** This configuration with fields set from text; names in snake_case or kebab-case, serving or DPO fields. */
    public ServeConfig withOverrides(Map<String, String> overrides) {
        return SCHEMA.with(this, overrides);
    }

    /** Whether {@code name} (snake or kebab case) is a serving field, a DPO field or an alias. */
    public static boolean isField(String name) {
        return SCHEMA.field(name) != null;
    }

    public Path dataPath() {
        return Path.of(dataDir);
    }

    /**
     * Where the preference store is, its password (for PostgreSQL) resolved: the URL's own, else the first line of
     * store_password_file, else {@code pgPassword} (PGPASSWORD). Reads that file; a file that cannot be read is bad
     * configuration.
     */
    public StoreLocation storeLocation(String pgPassword) {
        try {
            return StoreLocation.parse(store, dataPath(), storePasswordFile == null ? null : Path.of(storePasswordFile),
                    pgPassword);
        } catch (StoreLocation.BadLocation e) {
            throw bad(storePasswordFile == null ? "store" : "store_password_file", e.getMessage());
        }
    }

    /** Where the trainer's checkpoint-N directories go: output_dir, relative to data_dir unless absolute. */
    public Path trainerDir() {
        return dataPath().resolve(dpo.outputDir());
    }

    /** Whether this node may train (it still trains only while it holds the trainer lock, in a cluster). */
    public boolean mayTrain() {
        return !role.equals("http");
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
        SCHEMA.ownFields().forEach(f -> d.put(f.name(), f.description()));
        return java.util.Collections.unmodifiableMap(d);
    }

    static ConfigException bad(String field, String why) {
        return new ConfigException(field, field + ": " + why);
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

    private static void atLeast(long min, long v, String field) {
        if (v < min) {
            throw bad(field, "must be >= " + min + ", got " + v);
        }
    }

    private static void unitInterval(Double v, String field) {
        if (v != null && !(v >= 0 && v <= 1)) {
            throw bad(field, "must be in [0, 1] (or none: off), got " + v);
        }
    }

    private static void tokenEntries(String field, List<String> entries) {
        for (String e : entries) {
            String problem = ConfiguredTokens.problem(e);
            if (problem != null) {
                throw bad(field, problem);
            }
        }
    }
}
