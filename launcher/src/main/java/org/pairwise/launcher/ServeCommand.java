package org.pairwise.launcher;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.pairwise.server.PairwiseServer;
import org.pairwise.server.config.ServeConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "serve", description = "Serve the annotator page, the dashboard and the API; train the model with "
        + "DPO on the votes as they arrive.",
        footer = {"", "Every setting is also a snake_case key in --config and a PAIRWISE_<UPPER_SNAKE> environment "
                + "variable; precedence: defaults < file < environment < flags."})
final class ServeCommand implements Callable<Integer>, ConfigOptions.Command {
    @Option(names = "--config", paramLabel = "FILE", description = "Settings as JSON or YAML (snake_case keys). "
            + "Default: none.")
    Path config;

    final ConfigOptions settings = new ConfigOptions(ServeConfig.SCHEMA);

    @Spec
    CommandSpec spec;

    @Override
    public ConfigOptions settings() {
        return settings;
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        ServeConfig cfg = ServeConfig.load(config, System.getenv(), settings.given(spec));
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
        var resumed = server.resumed();
        if (resumed.step() > 0) {
            out.println("Resumed training at step " + resumed.step() + ", policy version " + resumed.policyVersion()
                    + ", after vote " + resumed.lastVoteId() + " (the last one trained on).");
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
}
