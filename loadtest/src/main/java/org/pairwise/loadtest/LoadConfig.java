package org.pairwise.loadtest;

import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.pairwise.loadtest.rules.PreferenceRule;

/**
 * One load test. Closed loop when {@code rate} is 0 ({@code annotators} each run one operation after another);
 * open loop otherwise ({@code rate} operations a second are due whatever the server does, and {@code annotators}
 * is how many people they are spread over). The run ends after {@code duration} or {@code count} operations,
 * whichever comes first; at least one of them must be set.
 *
 * @param url             the server, e.g. http://127.0.0.1:8080
 * @param workload        what an operation is (a vote in the annotate and vote workloads)
 * @param annotators      simulated people (closed loop: also the concurrency)
 * @param rate            operations per second for an open loop; 0 for a closed loop
 * @param duration        how long new operations start; null for no limit
 * @param count           operations at most; 0 for no limit
 * @param rule            how each annotator votes (noise included)
 * @param ruleSpec        the rule as the user wrote it, for the report
 * @param noise           the noise level folded into {@code rule}, for the report
 * @param thinkTime       time between seeing a pair and voting (annotate workload)
 * @param ownPrompts      fraction of annotators who type their own prompt (POST /api/pairs) instead of taking one
 * @param adminToken      for the audit (export, stats); null skips the parts that need it
 * @param annotatorTokens NAME:TOKEN entries for a server in token mode; annotator i uses entry i % size
 * @param distinctPairs   pairs fetched up front by the vote workload
 * @param connections     HTTP/1.1 connections at most
 * @param pipelining      requests in flight per connection (1 = no pipelining)
 * @param eventLoops      client event loops
 * @param timeout         a request with no answer after this long counts as an error with an unknown outcome
 * @param seed            randomness of rules and think times
 * @param audit           check afterwards that every acknowledged vote is in the server's store
 * @param warmup          run the same load this long first, on the same connections and people, and leave it out
 *                        of the figures (the client's JIT and connections warm up; a cold client under-reports the
 *                        server); its votes are audited with the rest. ZERO for none
 */
public record LoadConfig(URI url, Workload workload, int annotators, double rate, Duration duration, long count,
                         PreferenceRule rule, String ruleSpec, double noise, ThinkTime thinkTime, double ownPrompts,
                         String adminToken, List<String> annotatorTokens, int distinctPairs, int connections,
                         int pipelining, int eventLoops, Duration timeout, long seed, boolean audit,
                         Duration warmup) {

    public LoadConfig {
        if (url == null || url.getHost() == null || !(url.getScheme().equals("http") || url.getScheme().equals("https"))) {
            throw new IllegalArgumentException("url: expected http://HOST:PORT, got '" + url + "'");
        }
        positive(annotators, "annotators");
        if (!(rate >= 0) || Double.isInfinite(rate)) {
            throw new IllegalArgumentException("rate: must be a positive number of operations per second, got " + rate);
        }
        if (duration != null && (duration.isNegative() || duration.isZero())) {
            throw new IllegalArgumentException("duration: must be above 0");
        }
        if (count < 0) {
            throw new IllegalArgumentException("votes: must be >= 0, got " + count);
        }
        if (duration == null && count == 0) {
            throw new IllegalArgumentException("give --duration or --votes (or both), so that the run ends by itself");
        }
        if (rule == null) {
            throw new IllegalArgumentException("rule: missing");
        }
        if (!(ownPrompts >= 0 && ownPrompts <= 1)) {
            throw new IllegalArgumentException("own-prompts: must be a fraction in [0, 1], got " + ownPrompts);
        }
        annotatorTokens = List.copyOf(annotatorTokens);
        for (String t : annotatorTokens) {
            int colon = t.indexOf(':');
            if (colon <= 0 || colon == t.length() - 1) {
                throw new IllegalArgumentException("annotator-tokens: entries are NAME:TOKEN, got '" + t + "'");
            }
        }
        positive(distinctPairs, "pairs");
        positive(connections, "connections");
        positive(pipelining, "pipelining");
        positive(eventLoops, "event-loops");
        if (timeout == null || timeout.isZero() || timeout.isNegative()) {
            throw new IllegalArgumentException("timeout: must be above 0");
        }
        if (warmup == null || warmup.isNegative()) {
            throw new IllegalArgumentException("warmup: must be 0 or more");
        }
    }

    /** The warm-up phase: this load for {@code warmup}, no count, no audit. */
    public LoadConfig warmupPhase() {
        return new LoadConfig(url, workload, annotators, rate, warmup, 0, rule, ruleSpec, noise, thinkTime, ownPrompts,
                adminToken, annotatorTokens, distinctPairs, connections, pipelining, eventLoops, timeout, seed + 1,
                false, Duration.ZERO);
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
        m.put("url", url.toString());
        m.put("workload", workload.spec());
        m.put("load_model", openLoop() ? "open" : "closed");
        m.put("annotators", annotators);
        if (openLoop()) {
            m.put("rate_per_s", rate);
        }
        m.put("duration", duration == null ? null : Durations.format(duration));
        m.put("count", count == 0 ? null : count);
        if (workload.votes()) {
            m.put("rule", ruleSpec);
            m.put("noise", noise);
        }
        if (workload == Workload.ANNOTATE) {
            m.put("think_time", thinkTime.spec());
            m.put("own_prompts", ownPrompts);
        }
        if (workload == Workload.VOTE) {
            m.put("pairs", distinctPairs);
        }
        m.put("token_mode", tokenMode());
        m.put("connections", connections);
        m.put("pipelining", pipelining);
        m.put("event_loops", eventLoops);
        m.put("timeout", Durations.format(timeout));
        m.put("seed", seed);
        m.put("warmup", Durations.format(warmup));
        return m;
    }

    private static void positive(long v, String name) {
        if (v < 1) {
            throw new IllegalArgumentException(name + ": must be >= 1, got " + v);
        }
    }

    /** Builder with the CLI's defaults. */
    public static Builder builder(URI url) {
        return new Builder(url);
    }

    public static final class Builder {
        private final URI url;
        private Workload workload = Workload.ANNOTATE;
        private int annotators = 16;
        private double rate;
        private Duration duration;
        private long count;
        private PreferenceRule rule = PreferenceRule.parse("random");
        private String ruleSpec = "random";
        private double noise;
        private ThinkTime thinkTime = ThinkTime.none();
        private double ownPrompts;
        private String adminToken;
        private List<String> annotatorTokens = List.of();
        private int distinctPairs = 512;
        private int connections = 64;
        private int pipelining = 1;
        private int eventLoops = Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors()));
        private Duration timeout = Duration.ofSeconds(30);
        private long seed = 42;
        private boolean audit = true;
        private Duration warmup = Duration.ZERO;

        private Builder(URI url) {
            this.url = url;
        }

        public Builder workload(Workload v) { workload = v; return this; }
        public Builder annotators(int v) { annotators = v; return this; }
        public Builder rate(double v) { rate = v; return this; }
        public Builder duration(Duration v) { duration = v; return this; }
        public Builder count(long v) { count = v; return this; }
        public Builder rule(PreferenceRule r, String spec, double noiseLevel) {
            rule = r;
            ruleSpec = spec;
            noise = noiseLevel;
            return this;
        }
        public Builder thinkTime(ThinkTime v) { thinkTime = v; return this; }
        public Builder ownPrompts(double v) { ownPrompts = v; return this; }
        public Builder adminToken(String v) { adminToken = v; return this; }
        public Builder annotatorTokens(List<String> v) { annotatorTokens = v; return this; }
        public Builder distinctPairs(int v) { distinctPairs = v; return this; }
        public Builder connections(int v) { connections = v; return this; }
        public Builder pipelining(int v) { pipelining = v; return this; }
        public Builder eventLoops(int v) { eventLoops = v; return this; }
        public Builder timeout(Duration v) { timeout = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder audit(boolean v) { audit = v; return this; }
        public Builder warmup(Duration v) { warmup = v; return this; }

        public LoadConfig build() {
            return new LoadConfig(url, workload, annotators, rate, duration, count, rule, ruleSpec, noise, thinkTime,
                    ownPrompts, adminToken, annotatorTokens, distinctPairs, connections, pipelining, eventLoops,
                    timeout, seed, audit, warmup);
        }
    }
}
