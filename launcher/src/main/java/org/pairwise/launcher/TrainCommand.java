package org.pairwise.launcher;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.pairwise.model.Engine;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.trainer.config.DpoConfig;
import org.pairwise.trainer.data.PreferencePair;
import org.pairwise.trainer.data.PreferenceJsonl;
import org.pairwise.trainer.train.DpoTrainer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "train", description = "Offline DPO of a LoRA adapter, as TRL's DPOTrainer(...).train().",
        footer = {"", "Every DPOConfig field is also a flag, in kebab-case (--beta 0.1 --learning-rate 5e-6 "
                + "--per-device-train-batch-size 2 --loss-type sigmoid --lora-r 16 ...); precedence: defaults < "
                + "--config file (JSON or YAML, snake_case keys) < PAIRWISE_<FIELD> environment variables < flags."})
final class TrainCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--data", required = true, paramLabel = "FILE",
            description = "Training pairs in a TRL format, JSONL or a JSON array.")
    Path data;

    @Option(names = "--eval-data", paramLabel = "FILE", description = "Evaluation pairs; metrics get an eval_ prefix.")
    Path evalData;

    @Option(names = "--config", paramLabel = "FILE", description = "A DPOConfig as JSON or YAML.")
    Path config;

    @Option(names = "--resume-from-checkpoint", paramLabel = "DIR",
            description = "Continue a run from its checkpoint-N directory.")
    Path resume;

    @Option(names = "--batch-tokens", defaultValue = "4096",
            description = "Most positions in one reference-scoring batch. Default: ${DEFAULT-VALUE}.")
    int batchTokens;

    @Unmatched
    List<String> configFlags = new ArrayList<>();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        DpoConfig cfg = DpoConfig.load(config, System.getenv(), flags(configFlags, spec));
        PrintWriter out = spec.commandLine().getOut();
        try (Engine engine = modelOptions.open()) {
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
        }
        return 0;
    }

    /** The usage footer's list of DPOConfig fields, filled in at start-up (annotations need constants). */
    static void describeFields(CommandLine train) {
        List<String> footer = new ArrayList<>(List.of(train.getCommandSpec().usageMessage().footer()));
        footer.add("DPOConfig fields: " + String.join(", ",
                DpoConfig.fieldNames().stream().map(n -> "--" + n.replace('_', '-')).toList()));
        train.getCommandSpec().usageMessage().footer(footer.toArray(String[]::new));
    }

    static Map<String, String> flags(List<String> args, CommandSpec spec) {
        return ConfigFlags.parse(args, spec, name -> DpoConfig.fieldNames().contains(name.replace('-', '_')),
                "not a pairwise option nor a DPOConfig field");
    }
}
