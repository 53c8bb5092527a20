package org.pairwise.loadtest;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.pairwise.config.ConfigException;
import org.pairwise.config.Field;
import org.pairwise.config.Schema;
import org.pairwise.config.Type;
import org.pairwise.loadtest.rules.NoisyRule;
import org.pairwise.loadtest.rules.PreferenceRule;

/**
 * One load test, every field declared once in {@link #SCHEMA}. Closed loop when {@code rate} is 0 ({@code annotators}
 * each run one operation after another); open loop otherwise ({@code rate} operations a second are due whatever the
 * server does, and {@code annotators} is how many people they are spread over). The run ends after {@code duration}
 * or {@code votes} operations, whichever comes first; at least one of them must be set. Values come from defaults, a
 * JSON/YAML file, {@code PAIRWISE_<FIELD>} variables and flags, in that precedence ({@link #load}); an invalid one
 * fails with a {@link ConfigException} that names its field.
 */
public record LoadConfig(List<URI> url, Workload workload, int annotators, double rate, Duration duration, long votes,
                         PreferenceRule rule, double noise, ThinkTime thinkTime, double ownPrompts, String adminToken,
                         List<String> annotatorTokens, int pairs, int connections, int pipelining, int eventLoops,
                         Duration timeout, long seed, boolean audit, Duration warmup, AnnotatorSource annotatorsFrom,
                         double skipRate, Path store, Duration settle) {

    private static final Type<Duration> DURATION = Type.of(Duration.class, "D", Durations::parse, Durations::format);

    /** Every field: name, type, default, help. */
    public static final Schema<LoadConfig> SCHEMA = Schema.of(LoadConfig.class, "Load settings").fields(
            Field.of("url", Type.listOf(Type.of(URI.class, "URL", LoadConfig::parseUrl, URI::toString)), null,
                    "the server, e.g. http://127.0.0.1:8080, or the nodes of a cluster, comma-separated (each "
                    + "simulated person stays on one node, the people spread evenly; the audit asks the first)")
                    .allowingNull(),
            Field.of("workload", Type.choice(Workload.class, Arrays.asList(Workload.values()), Workload::spec),
                    Workload.ANNOTATE, "what an operation is: annotate (fetch, think, vote), next-pair "
                    + "(GET /api/pairs/next only), vote (POST /api/preferences only, on --pairs pairs fetched first) "
                    + "or constant (GET /api/bench/constant, needs the server's bench_route)"),
            Field.of("annotators", Type.INT, 16, "simulated annotators (closed loop: also the concurrency)"),
            Field.of("rate", Type.DOUBLE, 0.0, "open loop: operations per second, started on schedule whatever the "
                    + "server does; 0: a closed loop"),
            Field.of("duration", DURATION, null, "how long new operations start (30s, 2m, ...); none: until --votes")
                    .allowingNull(),
            Field.of("votes", Type.LONG, 0L, "operations at most: votes, or requests for the next-pair and constant "
                    + "workloads; 0: until --duration"),
            Field.of("rule", Type.of(PreferenceRule.class, "RULE", PreferenceRule::parse, PreferenceRule::spec),
                    PreferenceRule.parse("random"), "how annotators vote: shorter, longer, random, contains:WORD, "
                    + "avoids:WORD, or a mix like 0.7*contains:dragon+0.3*random"),
            Field.of("noise", Type.DOUBLE, 0.0, "probability of flipping the rule's choice; also of a tie (P/2) and "
                    + "of both-bad (P/2)"),
            Field.of("think_time", Type.of(ThinkTime.class, "T", ThinkTime::parse, ThinkTime::spec), ThinkTime.none(),
                    "between seeing a pair and voting: 0, 200ms, uniform:100ms..2s or exp:500ms"),
            Field.of("own_prompts", Type.DOUBLE, 0.0, "fraction of annotators who type their own prompt "
                    + "(POST /api/pairs) instead of taking a ready pair"),
            Field.of("admin_token", Type.STRING.labelled("TOKEN"), null,
                    "the server's admin token, for the audit (export, stats); none skips the parts that need it")
                    .allowingNull(),
            Field.of("annotator_tokens", Type.listOf(Type.STRING.labelled("NAME:TOKEN")), List.of(),
                    "for a server in token mode: NAME:TOKEN entries that annotators take in turn (sent as "
                    + "Authorization: Bearer TOKEN)"),
            Field.of("pairs", Type.INT, 512, "vote workload: distinct pairs fetched first; person n votes on each of "
                    + "them once"),
            Field.of("connections", Type.INT, 64, "HTTP connections at most"),
            Field.of("pipelining", Type.INT, 1, "HTTP/1.1 requests in flight per connection (1: no pipelining)"),
            Field.of("event_loops", Type.INT, Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors())),
                    "client event loops (2, or 1 on a one-core machine)"),
            Field.of("timeout", DURATION, Duration.ofSeconds(30), "a request with no answer after this long counts "
                    + "as an error with an unknown outcome"),
            Field.of("seed", Type.LONG, 42L, "randomness of rules and think times"),
            Field.of("audit", Type.BOOLEAN, true, "check afterwards that every acknowledged vote is in the server's "
                    + "store exactly once").withNegation(),
            Field.of("warmup", DURATION, Duration.ZERO, "run the same load this long first, on the same connections "
                    + "and people, and leave it out of the figures (a cold client under-reports the server); its "
                    + "votes are audited with the rest"),
            Field.of("annotators_from", Type.choice(AnnotatorSource.class, Arrays.asList(AnnotatorSource.values()),
                    AnnotatorSource::spec), AnnotatorSource.COOKIES, "who the simulated annotators are: cookies (each "
                    + "its own identity cookie, for an open server; with --annotator-tokens, those tokens) or "
                    + "accounts (for a server with --annotation accounts: the load test creates --annotators accounts "
                    + "through the admin API, each with a bearer token of its own; needs the admin token)"),
            Field.of("skip_rate", Type.DOUBLE, 0.0, "annotate workload: fraction of pairs skipped with a reason "
                    + "(POST /api/skips: cant_judge, harmful or prompt_unclear, at random) instead of voted on"),
            Field.of("store", Type.of(Path.class, "FILE", Path::of, Path::toString), null, "the server's SQLite "
                    + "file (DATA_DIR/pairwise.db), read-only, for the campaign audit: at most k votes per pair, one "
                    + "per person, each aggregated pair trained once; with --serve and --annotators-from accounts, "
                    + "the started server's").allowingNull(),
            Field.of("settle", DURATION, Duration.ofSeconds(60), "with --store: how long the audit waits after the "
                    + "run for the server to finalise and train what the run voted (undo windows, batches)"))
            .build();

    public LoadConfig {
        if (url == null || url.isEmpty()) {
            throw bad("url", "expected http://HOST:PORT (or several, comma-separated)");
        }
        url = List.copyOf(url);
        for (URI u : url) {
            if (u.getHost() == null || !u.getScheme().matches("https?")) {
                throw bad("url", "expected http://HOST:PORT, got '" + u + "'");
            }
        }
        positive(annotators, "annotators");
        if (!(rate >= 0) || Double.isInfinite(rate)) {
            throw bad("rate", "must be above 0 operations per second, or 0 for a closed loop; got " + rate);
        }
        if (duration != null && (duration.isNegative() || duration.isZero())) {
            throw bad("duration", "must be above 0");
        }
        if (votes < 0) {
            throw bad("votes", "must be >= 0 (0: no limit), got " + votes);
        }
        if (duration == null && votes == 0) {
            throw new ConfigException(null, "give --duration or --votes (or both), so that the run ends by itself");
        }
        if (rule == null) {
            throw bad("rule", "missing");
        }
        fraction(noise, "noise");
        fraction(ownPrompts, "own_prompts");
        annotatorTokens = List.copyOf(annotatorTokens);
        for (String t : annotatorTokens) {
            int colon = t.indexOf(':');
            if (colon <= 0 || colon == t.length() - 1) {
                throw bad("annotator_tokens", "entries are NAME:TOKEN, got '" + t + "'");
            }
        }
        positive(pairs, "pairs");
        positive(connections, "connections");
        positive(pipelining, "pipelining");
        positive(eventLoops, "event_loops");
        if (timeout == null || timeout.isZero() || timeout.isNegative()) {
            throw bad("timeout", "must be above 0");
        }
        if (warmup == null || warmup.isNegative()) {
            throw bad("warmup", "must be 0 or more");
        }
        if (annotatorsFrom == null) {
            throw bad("annotators_from", "missing");
        }
        if (annotatorsFrom == AnnotatorSource.ACCOUNTS && !annotatorTokens.isEmpty()) {
            throw bad("annotators_from", "accounts are created by the load test; leave out --annotator-tokens");
        }
        fraction(skipRate, "skip_rate");
        if (skipRate > 0 && workload != Workload.ANNOTATE) {
            throw bad("skip_rate", "skips are part of the annotate workload, not of " + workload.spec());
        }
        if (settle == null || settle.isNegative()) {
            throw bad("settle", "must be 0 or more");
        }
    }

    /** defaults, then {@code file} (may be null), then {@code PAIRWISE_*} variables, then {@code flags}. */
    public static LoadConfig load(Path file, Map<String, String> env, Map<String, String> flags) throws IOException {
        return SCHEMA.load(file, env, flags);
    }

    /** This load against {@code targets}, with {@code token} as the admin token and {@code storeFile} its store. */
    public LoadConfig withTarget(List<URI> targets, String token, Path storeFile) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("url", targets);
        v.put("admin_token", token);
        v.put("store", storeFile);
        return SCHEMA.withValues(this, v);
    }

    /** The warm-up phase: this load for {@code warmup}, no vote limit, no audit, its own random sequence. */
    public LoadConfig warmupPhase() {
        return SCHEMA.withValues(this, Map.of("duration", warmup, "votes", 0L, "seed", seed + 1, "audit", false,
                "warmup", Duration.ZERO));
    }

    /** How an annotator votes: the rule with {@code noise} folded in. */
    public PreferenceRule votingRule() {
        return NoisyRule.withNoise(rule, noise);
    }

    /** The first server named: the one the audit and the setup (accounts, the pool probe) talk to. */
    public URI firstUrl() {
        return url.getFirst();
    }

    public boolean openLoop() {
        return rate > 0;
    }

    public boolean tokenMode() {
        return !annotatorTokens.isEmpty();
    }

    /** The settings as the report shows them. */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("url", String.join(",", url.stream().map(URI::toString).toList()));
        m.put("workload", workload.spec());
        m.put("load_model", openLoop() ? "open" : "closed");
        m.put("annotators", annotators);
        if (openLoop()) {
            m.put("rate_per_s", rate);
        }
        m.put("duration", duration == null ? null : Durations.format(duration));
        m.put("count", votes == 0 ? null : votes);
        if (workload.votes()) {
            m.put("rule", rule.spec());
            m.put("noise", noise);
        }
        if (workload == Workload.ANNOTATE) {
            m.put("think_time", thinkTime.spec());
            m.put("own_prompts", ownPrompts);
        }
        if (workload == Workload.VOTE) {
            m.put("pairs", pairs);
        }
        m.put("token_mode", tokenMode());
        m.put("annotators_from", tokenMode() ? "tokens" : annotatorsFrom.spec());
        if (workload == Workload.ANNOTATE) {
            m.put("skip_rate", skipRate);
        }
        m.put("store", store == null ? null : store.toString());
        m.put("connections", connections);
        m.put("pipelining", pipelining);
        m.put("event_loops", eventLoops);
        m.put("timeout", Durations.format(timeout));
        m.put("seed", seed);
        m.put("warmup", Durations.format(warmup));
        return m;
    }

    private static URI parseUrl(String s) {
        try {
            URI u = new URI(s);
            if (u.getHost() == null || u.getScheme() == null) {
                throw new URISyntaxException(s, "needs a scheme and a host");
            }
            return u;
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("expected http://HOST:PORT, got '" + s + "'");
        }
    }

    private static ConfigException bad(String field, String why) {
        return new ConfigException(field, field + ": " + why);
    }

    private static void positive(long v, String name) {
        if (v < 1) {
            throw bad(name, "must be >= 1, got " + v);
        }
    }

    private static void fraction(double v, String name) {
        if (!(v >= 0 && v <= 1)) {
            throw bad(name, "must be in [0, 1], got " + v);
        }
    }
}
