package org.pairwise.launcher;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.pairwise.model.Engine;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.trainer.config.DpoConfig;
import org.pairwise.trainer.data.PreferencePair;
import org.pairwise.trainer.data.PreferenceJsonl;
import org.pairwise.trainer.train.DpoTrainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "train", description = "Offline DPO of a LoRA adapter, as TRL's DPOTrainer(...).train().",
        footer = {"", "Every DPOConfig field is a flag in kebab-case, a snake_case key in --config (JSON or YAML) "
                + "and a PAIRWISE_<UPPER_SNAKE> environment variable; precedence: defaults < file < environment < "
                + "flags."})
final class TrainCommand implements Callable<Integer>, ConfigOptions.Command {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--data", required = true, paramLabel = "FILE",
            description = "Training pairs in a TRL format, JSONL or a JSON array.")
    Path data;

    @Option(names = "--eval-data", paramLabel = "FILE",
            description = "Evaluation pairs; metrics get an eval_ prefix. Default: none.")
    Path evalData;

    @Option(names = "--config", paramLabel = "FILE", description = "A DPOConfig as JSON or YAML. Default: none.")
    Path config;

    @Option(names = "--resume-from-checkpoint", paramLabel = "DIR",
            description = "Continue a run from its checkpoint-N directory. Default: none.")
    Path resume;

    @Option(names = "--batch-tokens", defaultValue = "4096",
            description = "Most positions in one reference-scoring batch. Default: ${DEFAULT-VALUE}.")
    int batchTokens;

    final ConfigOptions settings = new ConfigOptions(DpoConfig.SCHEMA);

    @Spec
    CommandSpec spec;

    @Override
    public ConfigOptions settings() {
        return settings;
    }

    @Override
    public Integer call() throws Exception {
        DpoConfig cfg = DpoConfig.load(config, System.getenv(), settings.given(spec));
        PrintWriter out = spec.commandLine().getOut();
        try (Engine engine = modelOptions.open(cfg.chatTemplate())) {
            PreferenceJsonl reader = new PreferenceJsonl(engine.tokenizer(), engine.config().vocabSize());
            List<PreferencePair> train = reader.read(data);
            List<PreferencePair> eval = evalData == null ? null : reader.read(evalData);
            // --adapter continues training that adapter; a frozen copy of it is then the reference model.
            LoraAdapter initial = engine.model().adapter();
            out.printf("training on %d pairs from %s%s; output in %s%n", train.size(), data,
                    eval == null ? "" : " (" + eval.size() + " for evaluation)", cfg.outputDir());
            out.flush();
            DpoTrainer.Outcome o = new DpoTrainer(engine.model(), cfg, engine.checkpoint().source(), System.err,
                    batchTokens).train(train, eval, initial, resume);
            out.printf("done: %d steps (%d skipped for non-finite gradients); adapter in %s%n", o.steps(),
                    o.skippedSteps(), cfg.outputDir());
            out.println(Json.MAPPER.writeValueAsString(o.lastMetrics()));
            // TRL's closing line: train_runtime, train_samples_per_second, train_steps_per_second, train_loss, epoch
            out.println(Json.MAPPER.writeValueAsString(o.run().toMap()));
        }
        return 0;
    }
}
