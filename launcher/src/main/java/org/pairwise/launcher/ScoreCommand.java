package org.pairwise.launcher;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.pairwise.model.Engine;
import org.pairwise.model.engine.SequenceScorer;
import org.pairwise.model.engine.SequenceScorer.Score;
import org.pairwise.model.engine.SequenceScorer.Sequence;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.trainer.config.DpoConfig;
import org.pairwise.trainer.data.PreferenceJsonl;
import org.pairwise.trainer.data.PreferencePair;
import org.pairwise.trainer.dpo.DpoLoss;
import org.pairwise.trainer.dpo.LossType;
import org.pairwise.trainer.train.DpoSession;
import org.pairwise.trainer.train.FullBatch;
import org.pairwise.trainer.train.ReferenceLogps;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "score", description = "Sequence log-probs of the chosen and rejected completion of every preference "
        + "record (completion tokens only, prompt masked), as TRL computes them; with --adapter also the reference "
        + "log-probs, implicit rewards, DPO losses, TRL's batch metrics and, on request, the LoRA gradients.",
        modelTransformer = ScoreCommand.SharedSettings.class)
final class ScoreCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--data", required = true, paramLabel = "FILE.jsonl",
            description = "Preference records in a TRL format (standard, conversational, implicit, pre-tokenized).")
    Path data;

    @Option(names = "--out", required = true, paramLabel = "FILE.jsonl", description = "Where to write the scores.")
    Path out;

    @Option(names = "--batch-tokens", defaultValue = "4096",
            description = "Most positions (sequences x padded length) in one forward batch. Default: ${DEFAULT-VALUE}.")
    int batchTokens;

    @Option(names = "--beta", defaultValue = "0.1",
            description = "DPO beta for the implicit rewards and the loss (with --adapter). Default: ${DEFAULT-VALUE}.")
    double beta;

    @Option(names = "--ref-adapter", paramLabel = "DIR",
            description = "A PEFT adapter to use as the frozen reference. Default: the base model (adapter disabled).")
    Path refAdapter;

    @Option(names = "--loss-type", defaultValue = "sigmoid", paramLabel = "T",
            description = "TRL loss_type for the per-record and batch loss (with --adapter): ${COMPLETION-CANDIDATES}. "
                    + "Default: ${DEFAULT-VALUE}.", completionCandidates = LossNames.class)
    String lossType;

    @Option(names = "--label-smoothing", defaultValue = "0",
            description = "TRL label_smoothing (cDPO for sigmoid; robust, exo_pair, aot). Default: ${DEFAULT-VALUE}.")
    double labelSmoothing;

    @Option(names = "--metrics-out", paramLabel = "FILE.json",
            description = "Also write the batch metrics (printed on stdout) to this file (needs --adapter). "
                    + "Default: none.")
    Path metricsOut;

    @Option(names = "--grads-out", paramLabel = "FILE.safetensors",
            description = "Write the gradient of the printed batch loss (all records as one batch) with respect to "
                    + "every LoRA tensor of --adapter: F32, PEFT's key names. Computed in micro-batches of "
                    + "--batch-tokens positions (aot and aot_unpaired couple all records, so they run as one). "
                    + "Default: none.")
    Path gradsOut;

    @Spec
    CommandSpec spec;

    /** The DpoConfig field score shares with train and serve, declared once in DpoConfig.SCHEMA: its option. */
    static final class SharedSettings implements CommandLine.IModelTransformer {
        @Override
        public CommandSpec transform(CommandSpec spec) {
            return spec.addOption(ConfigOptions.option(DpoConfig.SCHEMA, DpoConfig.SCHEMA.field(CHAT_TEMPLATE)));
        }
    }

    private static final String CHAT_TEMPLATE = "chat_template";

    /** The --loss-type candidates for the help text. */
    static final class LossNames extends ArrayList<String> {
        LossNames() {
            for (LossType t : LossType.values()) {
                add(t.trlName());
            }
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter console = spec.commandLine().getOut();
        requireAdapterFor("--ref-adapter", "--loss-type", "--label-smoothing", "--metrics-out", "--grads-out");
        String given = spec.commandLine().getParseResult().matchedOptionValue(
                DpoConfig.SCHEMA.field(CHAT_TEMPLATE).flag(), null);
        String chatTemplate = given == null ? null
                : DpoConfig.SCHEMA.with(DpoConfig.defaults(), Map.of(CHAT_TEMPLATE, given)).chatTemplate();
        // Validated before the model loads: a bad loss type or beta fails in a moment, not after a long load.
        DpoLoss.Params lossParams = modelOptions.adapter == null ? null : lossParams();
        try (Engine engine = modelOptions.open(chatTemplate)) {
            List<PreferencePair> examples = new PreferenceJsonl(engine.tokenizer(), engine.config().vocabSize())
                    .read(data);
            List<Sequence> sequences = new ArrayList<>(examples.size() * 2);
            for (PreferencePair e : examples) {
                sequences.add(new Sequence(concat(e.promptIds(), e.chosenIds()), e.promptIds().length));
                sequences.add(new Sequence(concat(e.promptIds(), e.rejectedIds()), e.promptIds().length));
            }
            long start = System.nanoTime();
            SequenceScorer scorer = new SequenceScorer(engine.model(), batchTokens);
            List<Score> scores = scorer.score(sequences);
            FullBatch.Scores dpo = null;
            if (lossParams != null) {
                LoraAdapter ref = refAdapter == null ? null
                        : LoraAdapter.load(refAdapter, engine.config(), engine.backend());
                // The reference scores stay cached, so the gradient pass below does not recompute them.
                ReferenceLogps reference = new ReferenceLogps(scorer, ref, 2L * sequences.size() + 16);
                dpo = FullBatch.score(scores, reference.get(sequences), new DpoLoss(lossParams),
                        engine.config().vocabSize());
                if (gradsOut != null) {
                    // The policy is --adapter itself; no optimizer step is taken, so it stays as loaded.
                    DpoConfig cfg = gradientConfig(lossParams);
                    DpoSession session = new DpoSession(engine.model(), cfg, cfg.lrSchedule(1),
                            engine.model().adapter(), reference, 0);
                    FullBatch.accumulateGradient(session, examples, batchTokens);
                    session.saveGradients(gradsOut);
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long positions = sequences.stream().mapToLong(s -> s.ids().length).sum();
            int wins = writeScores(examples, scores, dpo);
            console.printf("scored %d records (%d positions) in %.2f s, %.0f positions/s; chosen > rejected in %d%n",
                    examples.size(), positions, seconds, positions / seconds, wins);
            if (dpo != null) {
                String metrics = Json.MAPPER.writeValueAsString(dpo.metrics());
                if (metricsOut != null) {
                    writeAtomically(metricsOut, metrics + "\n");
                }
                console.println(metrics);
            }
        }
        return 0;
    }

    // Bad usage, as picocli's own errors are: exit 2, one line.
    private void requireAdapterFor(String... options) {
        if (modelOptions.adapter != null) {
            return;
        }
        var parsed = spec.commandLine().getParseResult();
        for (String o : options) {
            if (parsed.hasMatchedOption(o)) {
                throw new ParameterException(spec.commandLine(), o + " needs --adapter DIR: the policy is the base "
                        + "model with that LoRA adapter, and without one there is nothing to compare with the "
                        + "reference");
            }
        }
    }

    private DpoLoss.Params lossParams() {
        try {
            return new DpoLoss.Params(List.of(LossType.fromName(lossType)), null, beta, labelSmoothing, 0.05, false);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
    }

    // The loss of --loss-type, --beta and --label-smoothing on the records as they are: no truncation.
    private static DpoConfig gradientConfig(DpoLoss.Params p) {
        return DpoConfig.defaults().withOverrides(Map.of("loss_type", p.types().getFirst().trlName(),
                "beta", Double.toString(p.beta()), "label_smoothing", Double.toString(p.labelSmoothing()),
                "max_length", "null", "gradient_checkpointing", "false"));
    }

    private int writeScores(List<PreferencePair> examples, List<Score> scores, FullBatch.Scores dpo)
            throws IOException {
        int wins = 0;
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            for (int i = 0; i < examples.size(); i++) {
                PreferencePair e = examples.get(i);
                Score c = scores.get(2 * i), r = scores.get(2 * i + 1);
                wins += c.logprob() > r.logprob() ? 1 : 0;
                Map<String, Object> rec = new LinkedHashMap<>();
                rec.put("line", e.id());
                rec.put("prompt_tokens", e.promptIds().length);
                rec.put("chosen_tokens", c.tokens());
                rec.put("rejected_tokens", r.tokens());
                rec.put("chosen_logps", c.logprob());
                rec.put("rejected_logps", r.logprob());
                if (dpo != null) {
                    putDpo(dpo, i, rec);
                }
                w.write(Json.MAPPER.writeValueAsString(rec));
                w.newLine();
            }
        }
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING);
        return wins;
    }

    private static void putDpo(FullBatch.Scores dpo, int i, Map<String, Object> rec) {
        rec.put("ref_chosen_logps", dpo.batch().refChosen()[i]);
        rec.put("ref_rejected_logps", dpo.batch().refRejected()[i]);
        rec.put("chosen_rewards", dpo.out().chosenRewards[i]);
        rec.put("rejected_rewards", dpo.out().rejectedRewards[i]);
        rec.put("reward_margin", dpo.out().chosenRewards[i] - dpo.out().rejectedRewards[i]);
        rec.put("loss", dpo.recordLoss()[i]);
    }

    private static void writeAtomically(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }

    static int[] concat(int[] a, int[] b) {
        int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
