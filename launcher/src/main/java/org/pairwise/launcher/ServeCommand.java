package org.pairwise.launcher;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.pairwise.server.PairwiseServer;
import org.pairwise.server.config.ServeConfig;
import org.pairwise.trainer.config.DpoConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "serve", description = "Serve the annotator page, the dashboard and the API; train the model with "
        + "DPO on the votes as they arrive.")
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", description = "Settings as JSON or YAML (snake_case keys).")
    Path config;

    // Not picocli's usageHelp: the settings list below is built at run time from ServeConfig and DpoConfig.
    @Option(names = {"-h", "--help"}, description = "Show this help with every setting, and exit.")
    boolean help;

    @Unmatched
    List<String> settingFlags = new ArrayList<>();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (help) {
            spec.commandLine().usage(out);
            out.print(settingsHelp());
            out.flush();
            return 0;
        }
        ServeConfig cfg = ServeConfig.load(config, System.getenv(), flags(settingFlags, spec));
        PairwiseServer server = PairwiseServer.start(cfg);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "pairwise-shutdown"));
        if (cfg.isDemoModel()) {
            out.println("Serving the built-in demo model and prompt set (its text is noise). For a real model: "
                    + "--model with a local HF directory, a .gguf or llama2.c .bin file, or a hub id (org/name).");
        }
        out.println("Pairwise is listening on " + server.url() + "  (annotate: " + server.url() + "/ , dashboard: "
                + server.url() + "/dashboard.html)");
        var token = server.adminTokenInfo();
        if (token.generated()) {
            out.println("Admin token (shown once; kept in " + token.file() + "): " + token.value());
        } else if (token.file() != null) {
            out.println("Admin token: in " + token.file());
        }
        out.println("Data: " + cfg.dataPath().toAbsolutePath() + ". Stop with Ctrl-C.");
        out.flush();
        stopped.await();
        return 0;
    }

    static Map<String, String> flags(List<String> args, CommandSpec spec) {
        return ConfigFlags.parse(args, spec, ServeConfig::isField, "not a serve setting nor a DPOConfig field");
    }

    static String settingsHelp() {
        StringBuilder b = new StringBuilder(String.format("%nSettings: a flag --kebab-name VALUE, a variable "
                + "PAIRWISE_UPPER_SNAKE, or a snake_case key in --config; precedence defaults < file < environment "
                + "< flags.%n"));
        ServeConfig.DOCS.forEach((name, doc) -> b.append(String.format("  --%-28s %s%n", name.replace('_', '-'),
                doc)));
        b.append(String.format("  --%-28s %s%n", "batch-size", "alias of --per-device-train-batch-size (pairs per "
                + "micro-batch). Default: 4."));
        b.append(String.format("%nDPO settings (TRL's DPOConfig names; serve's defaults: per_device_train_batch_size "
                + "4, learning_rate 5e-6, save_steps 10; output_dir is relative to data_dir):%n  "));
        b.append(String.join(", ", DpoConfig.fieldNames().stream().map(n -> "--" + n.replace('_', '-')).toList()));
        b.append(String.format("%n"));
        return b.toString();
    }
}
