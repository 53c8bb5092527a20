package org.pairwise.launcher;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
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
import org.pairwise.loadtest.AnnotatorSource;
import org.pairwise.loadtest.HtmlReport;
import org.pairwise.loadtest.LoadConfig;
import org.pairwise.loadtest.LoadReport;
import org.pairwise.loadtest.LoadRunner;
import org.pairwise.loadtest.PoolProbe;
import org.pairwise.server.PairwiseServer;
import org.pairwise.server.config.ServeConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code pairwise loadtest}: simulated annotators against any server that speaks the API ({@code --url}), or against
 * one started here ({@code --serve}). The load settings are {@link LoadConfig}'s fields, one flag each; every value is
 * checked before a server starts, so a typo costs no model load.
 */
@Command(name = "loadtest", description = "Simulated annotators: throughput, latency percentiles, and a zero-loss "
        + "audit of the votes against the server's store.",
        footer = {"", "Closed loop (--annotators N, each votes as soon as it has thought) unless --rate is given: then "
                + "open loop, operations start on a fixed schedule and latency counts from when each was due (no "
                + "coordinated omission). The run ends after --duration or --votes, whichever comes first.",
                "Every load setting is also a snake_case key in --config and a PAIRWISE_<UPPER_SNAKE> environment "
                + "variable; precedence: defaults < file < environment < flags.",
                "Exit status 1 when the audit fails."})
final class LoadtestCommand implements Callable<Integer>, ConfigOptions.Command {
    /** Where the checks point before --serve has started the server whose address the run will use. */
    private static final URI NOT_YET_SERVING = URI.create("http://127.0.0.1:1");

    @Option(names = "--serve", description = "Start a server here for the run (the demo model unless --model), on a "
            + "free port, with its data in --data-dir or a temporary folder.")
    boolean serve;

    @Option(names = "--model", paramLabel = "M", description = "With --serve: the model to serve. Default: demo.")
    String model;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "With --serve: data folder (kept). Default: a "
            + "temporary folder, removed afterwards.")
    Path dataDir;

    @Option(names = "--serve-set", paramLabel = "KEY=VALUE", description = "With --serve: any serve setting, e.g. "
            + "pool_size=256, votes_per_pair=3, aggregation=majority, bench_route=true (repeatable; --annotators-from "
            + "accounts implies annotation=accounts). Default: none.")
    List<String> serveSettings = new ArrayList<>();

    @Option(names = "--config", paramLabel = "FILE", description = "Load settings as JSON or YAML (snake_case keys). "
            + "Default: none.")
    Path config;

    @Option(names = "--report", paramLabel = "FILE.json", description = "Write the report as JSON. Default: none.")
    Path report;

    @Option(names = "--html", paramLabel = "FILE.html", description = "Write the report as a self-contained HTML page "
            + "with throughput and latency charts. Default: none.")
    Path html;

    final ConfigOptions settings = new ConfigOptions(LoadConfig.SCHEMA);

    @Spec
    CommandSpec spec;

    @Override
    public ConfigOptions settings() {
        return settings;
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Object> values = LoadConfig.SCHEMA.resolve(config, System.getenv(), settings.given(spec));
        if (serve == (values.get("url") != null)) {
            throw usage("give either --url URL (a running server) or --serve (start one here)");
        }
        if (!serve && (model != null || dataDir != null || !serveSettings.isEmpty())) {
            throw usage("--model, --data-dir and --serve-set go with --serve");
        }
        if (serve) {
            values.put("url", List.of(NOT_YET_SERVING));
        }
        LoadConfig load = LoadConfig.SCHEMA.build(values);
        Map<String, String> serveFlags = serve ? serveFlags(load) : Map.of();
        if (serve) {
            ServeConfig.defaults().withOverrides(serveFlags);
        }

        PairwiseServer server = null;
        Path tempDir = null;
        try {
            List<URI> targets = load.url();
            String admin = load.adminToken();
            Path store = load.store();
            Runnable stop = null;
            if (serve) {
                if (dataDir == null) {
                    tempDir = Files.createTempDirectory("pairwise-loadtest-");
                    serveFlags.put("data_dir", tempDir.toString());
                }
                server = PairwiseServer.start(ServeConfig.defaults().withOverrides(serveFlags));
                admin = admin == null ? server.adminToken() : admin;
                out.println("serving " + server.config().model() + " on " + server.url() + "; filling the pair pool ...");
                out.flush();
                PoolProbe.awaitFull(URI.create(server.url()), admin, Duration.ofMinutes(10));
                targets = List.of(URI.create(server.url()));
                if (store == null && load.annotatorsFrom() == AnnotatorSource.ACCOUNTS) {
                    // A campaign run: its audit reads the store too (other runs only when asked: it waits for the
                    // trainer to catch up, which a throughput run of many votes need not).
                    store = Path.of(server.config().dataDir()).resolve(PairwiseServer.DB_FILE);
                }
                stop = server::close;  // before the store's audit: the last checkpoint is then on disk
            }
            LoadReport r = LoadRunner.run(load.withTarget(targets, admin, store), stop);
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

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    private Map<String, String> serveFlags(LoadConfig load) {
        String adminToken = load.adminToken();
        Map<String, String> m = new LinkedHashMap<>();
        m.put("port", "0");
        for (String s : serveSettings) {
            int eq = s.indexOf('=');
            if (eq <= 0) {
                throw usage("serve-set: expected KEY=VALUE, got '" + s + "'");
            }
            m.put(s.substring(0, eq).strip(), s.substring(eq + 1).strip());
        }
        if (load.annotatorsFrom() == AnnotatorSource.ACCOUNTS) {
            m.putIfAbsent("annotation", "accounts");
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

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
