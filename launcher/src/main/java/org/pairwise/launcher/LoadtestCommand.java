package org.pairwise.launcher;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.pairwise.loadtest.Durations;
import org.pairwise.loadtest.HtmlReport;
import org.pairwise.loadtest.LoadConfig;
import org.pairwise.loadtest.LoadReport;
import org.pairwise.loadtest.LoadRunner;
import org.pairwise.loadtest.PoolProbe;
import org.pairwise.loadtest.ThinkTime;
import org.pairwise.loadtest.Workload;
import org.pairwise.loadtest.rules.NoisyRule;
import org.pairwise.loadtest.rules.PreferenceRule;
import org.pairwise.server.PairwiseServer;
import org.pairwise.server.config.ServeConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code pairwise loadtest}: simulated annotators against any server that speaks the API ({@code --url}), or against
 * one started here ({@code --serve}). Numbers are read as text and checked here, so a bad value is one error line
 * naming the flag rather than a usage dump.
 */
@Command(name = "loadtest", description = "Simulated annotators: throughput, latency percentiles, and a zero-loss "
        + "audit of the votes against the server's store.",
        footer = {"", "Closed loop (--annotators N, each votes as soon as it has thought) unless --rate is given: then "
                + "open loop, operations start on a fixed schedule and latency counts from when each was due (no "
                + "coordinated omission). The run ends after --duration or --votes, whichever comes first.",
                "Exit status 1 when the audit fails."})
final class LoadtestCommand implements Callable<Integer> {
    @Option(names = "--url", paramLabel = "URL", description = "The server, e.g. http://127.0.0.1:8080.")
    String url;

    @Option(names = "--serve", description = "Start a server here for the run (the demo model unless --model), on a "
            + "free port, with its data in --data-dir or a temporary folder.")
    boolean serve;

    @Option(names = "--model", paramLabel = "M", description = "With --serve: the model to serve. Default: demo.")
    String model;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "With --serve: data folder (kept). Default: a "
            + "temporary folder, removed afterwards.")
    Path dataDir;

    @Option(names = "--serve-set", paramLabel = "KEY=VALUE", description = "With --serve: any serve setting, e.g. "
            + "pool_size=256, pair_views=1000, bench_route=true (repeatable).")
    List<String> serveSettings = new ArrayList<>();

    @Option(names = "--workload", paramLabel = "W", defaultValue = "annotate", description = "annotate (fetch, think, "
            + "vote), next-pair (GET /api/pairs/next only), vote (POST /api/preferences only, on --pairs pairs "
            + "fetched first) or constant (GET /api/bench/constant, needs bench_route). Default: ${DEFAULT-VALUE}.")
    String workload;

    @Option(names = "--annotators", paramLabel = "N", defaultValue = "16",
            description = "Simulated annotators (closed loop: also the concurrency). Default: ${DEFAULT-VALUE}.")
    String annotators;

    @Option(names = "--rate", paramLabel = "OPS_PER_S", description = "Open loop: votes (operations) per second, "
            + "started on schedule whatever the server does.")
    String rate;

    @Option(names = "--duration", paramLabel = "D", description = "How long to start new operations: 30s, 2m, ...")
    String duration;

    @Option(names = "--votes", paramLabel = "N", description = "Operations at most: votes, or requests for the "
            + "next-pair and constant workloads.")
    String votes;

    @Option(names = "--rule", paramLabel = "RULE", defaultValue = "random", description = "How annotators vote: "
            + "shorter, longer, random, contains:WORD, avoids:WORD, or a mix like 0.7*contains:dragon+0.3*random. "
            + "Default: ${DEFAULT-VALUE}.")
    String rule;

    @Option(names = "--noise", paramLabel = "P", defaultValue = "0", description = "Probability of flipping the "
            + "rule's choice; also of a tie (P/2) and of both-bad (P/2). Default: ${DEFAULT-VALUE}.")
    String noise;

    @Option(names = "--think-time", paramLabel = "T", defaultValue = "0", description = "Between seeing a pair and "
            + "voting: 0, 200ms, uniform:100ms..2s or exp:500ms. Default: ${DEFAULT-VALUE}.")
    String thinkTime;

    @Option(names = "--own-prompts", paramLabel = "F", defaultValue = "0", description = "Fraction of annotators who "
            + "type their own prompt (POST /api/pairs) instead of taking a ready pair. Default: ${DEFAULT-VALUE}.")
    String ownPrompts;

    @Option(names = "--admin-token", paramLabel = "T", description = "Admin token of the server (for the audit's "
            + "export). With --serve: taken from the server.")
    String adminToken;

    @Option(names = "--annotator-tokens", paramLabel = "NAME:TOKEN", split = ",", description = "For a server in "
            + "token mode: annotators take these in turn (sent as Authorization: Bearer TOKEN).")
    List<String> annotatorTokens = new ArrayList<>();

    @Option(names = "--pairs", paramLabel = "K", defaultValue = "512", description = "Vote workload: distinct pairs "
            + "fetched first; person n votes on each of them once. Default: ${DEFAULT-VALUE}.")
    String pairs;

    @Option(names = "--connections", paramLabel = "N", defaultValue = "64",
            description = "HTTP connections at most. Default: ${DEFAULT-VALUE}.")
    String connections;

    @Option(names = "--pipelining", paramLabel = "N", defaultValue = "1",
            description = "HTTP/1.1 requests in flight per connection. Default: ${DEFAULT-VALUE} (none).")
    String pipelining;

    @Option(names = "--event-loops", paramLabel = "N", description = "Client event loops. Default: 2 (or 1 on one "
            + "core).")
    String eventLoops;

    @Option(names = "--timeout", paramLabel = "D", defaultValue = "30s",
            description = "Per request. Default: ${DEFAULT-VALUE}.")
    String timeout;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "42", description = "Default: ${DEFAULT-VALUE}.")
    String seed;

    @Option(names = "--warmup", paramLabel = "D", defaultValue = "0", description = "Run the same load this long "
            + "first, unreported, so neither side is measured cold (e.g. 5s). Default: ${DEFAULT-VALUE}.")
    String warmup;

    @Option(names = "--no-audit", description = "Skip the audit.")
    boolean noAudit;

    @Option(names = "--report", paramLabel = "FILE.json", description = "Write the report as JSON.")
    Path report;

    @Option(names = "--html", paramLabel = "FILE.html", description = "Write the report as a self-contained HTML page "
            + "with throughput and latency charts.")
    Path html;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (serve == (url != null)) {
            throw new IllegalArgumentException("give either --url URL (a running server) or --serve (start one here)");
        }
        if (!serve && (model != null || dataDir != null || !serveSettings.isEmpty())) {
            throw new IllegalArgumentException("--model, --data-dir and --serve-set go with --serve");
        }
        // Everything the user typed is checked before a server starts: a typo should not cost a model load.
        LoadConfig.Builder b = options(URI.create("http://127.0.0.1:1"));
        b.build();
        Map<String, String> serveFlags = serve ? serveFlags() : Map.of();
        if (serve) {
            ServeConfig.defaults().withOverrides(serveFlags);
        }

        PairwiseServer server = null;
        Path tempDir = null;
        try {
            URI target;
            String admin = adminToken;
            if (serve) {
                if (dataDir == null) {
                    tempDir = Files.createTempDirectory("pairwise-loadtest-");
                    serveFlags.put("data_dir", tempDir.toString());
                }
                server = PairwiseServer.start(ServeConfig.defaults().withOverrides(serveFlags));
                admin = admin == null ? server.adminToken() : admin;
                out.println("serving " + server.config().model() + " on " + server.url() + "; filling the pair pool ...");
                out.flush();
                PoolProbe.awaitFull(URI.create(server.url()), Duration.ofMinutes(10));
                target = URI.create(server.url());
            } else {
                target = parseUrl(url);
            }
            LoadConfig cfg = options(target).adminToken(admin).build();
            LoadReport r = LoadRunner.run(cfg);
            r.printTable(out);
            if (report != null) {
                r.writeJson(report);
                out.println("report: " + report);
            }
            if (html != null) {
                HtmlReport.write(r, html);
                out.println("html: " + html);
            }
            out.flush();
            if (r.audit() != null && !r.audit().passed()) {
                throw new IllegalStateException("the audit failed: " + r.audit().checks().stream()
                        .filter(c -> c.status() == org.pairwise.loadtest.Audit.Status.FAIL)
                        .map(c -> c.name() + " (" + c.detail() + ")").findFirst().orElse(""));
            }
            return 0;
        } finally {
            if (server != null) {
                server.close();
            }
            if (tempDir != null) {
                deleteTree(tempDir);
            }
        }
    }

    private LoadConfig.Builder options(URI target) {
        PreferenceRule parsed = PreferenceRule.parse(rule);
        double noiseLevel = fraction(noise, "noise");
        LoadConfig.Builder b = LoadConfig.builder(target)
                .workload(Workload.parse(workload))
                .annotators(integer(annotators, "annotators"))
                .rule(NoisyRule.withNoise(parsed, noiseLevel), rule, noiseLevel)
                .thinkTime(ThinkTime.parse(thinkTime))
                .ownPrompts(fraction(ownPrompts, "own-prompts"))
                .annotatorTokens(annotatorTokens)
                .distinctPairs(integer(pairs, "pairs"))
                .connections(integer(connections, "connections"))
                .pipelining(integer(pipelining, "pipelining"))
                .timeout(Durations.parse(timeout, "timeout"))
                .seed(longValue(seed, "seed"))
                .audit(!noAudit)
                .warmup(Durations.parse(warmup, "warmup"))
                .adminToken(adminToken);
        if (rate != null) {
            double r = number(rate, "rate");
            if (!(r > 0)) {
                throw new IllegalArgumentException("rate: must be above 0 operations per second, got " + rate);
            }
            b.rate(r);
        }
        if (duration != null) {
            b.duration(Durations.parse(duration, "duration"));
        }
        if (votes != null) {
            long n = longValue(votes, "votes");
            if (n < 1) {
                throw new IllegalArgumentException("votes: must be >= 1, got " + votes);
            }
            b.count(n);
        }
        if (eventLoops != null) {
            b.eventLoops(integer(eventLoops, "event-loops"));
        }
        return b;
    }

    private Map<String, String> serveFlags() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("port", "0");
        for (String s : serveSettings) {
            int eq = s.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("serve-set: expected KEY=VALUE, got '" + s + "'");
            }
            m.put(s.substring(0, eq).strip(), s.substring(eq + 1).strip());
        }
        if (model != null) {
            m.put("model", model);
        }
        if (dataDir != null) {
            m.put("data_dir", dataDir.toString());
        }
        if (adminToken != null) {
            m.put("admin_token", adminToken);
        }
        return m;
    }

    private static URI parseUrl(String s) {
        try {
            URI u = new URI(s.strip());
            if (u.getHost() == null || u.getScheme() == null) {
                throw new URISyntaxException(s, "needs a scheme and a host");
            }
            return u;
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("url: expected http://HOST:PORT, got '" + s + "'");
        }
    }

    private static int integer(String s, String name) {
        long v = longValue(s, name);
        if (v > Integer.MAX_VALUE || v < Integer.MIN_VALUE) {
            throw new IllegalArgumentException(name + ": " + s + " is too large");
        }
        return (int) v;
    }

    private static long longValue(String s, String name) {
        try {
            return Long.parseLong(s.strip().replace("_", ""));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + ": '" + s + "' is not a whole number");
        }
    }

    private static double number(String s, String name) {
        try {
            double v = Double.parseDouble(s.strip());
            if (Double.isNaN(v) || Double.isInfinite(v)) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + ": '" + s + "' is not a number");
        }
    }

    private static double fraction(String s, String name) {
        double v = number(s, name);
        if (v < 0 || v > 1) {
            throw new IllegalArgumentException(name + ": must be in [0, 1], got " + s);
        }
        return v;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
