package org.pairwise.server.cli;

import java.io.BufferedWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.pairwise.model.Engine;
import org.pairwise.model.engine.SequenceScorer;
import org.pairwise.model.engine.SequenceScorer.Score;
import org.pairwise.model.engine.SequenceScorer.Sequence;
import org.pairwise.trainer.data.PreferenceExample;
import org.pairwise.trainer.data.PreferenceJsonl;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "score", description = "Sequence log-probs of the chosen and rejected completion of every preference "
        + "record (completion tokens only, prompt masked), as TRL computes them.")
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
            description = "DPO beta for the implicit rewards, written when --adapter is given (the reference is the base "
                    + "model with the adapter disabled). Default: ${DEFAULT-VALUE}.")
    double beta;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter console = spec.commandLine().getOut();
        try (Engine engine = modelOptions.open()) {
            List<PreferenceExample> examples = new PreferenceJsonl(engine.tokenizer(), engine.config().vocabSize())
                    .read(data);
            List<Sequence> sequences = new ArrayList<>(examples.size() * 2);
            for (PreferenceExample e : examples) {
                sequences.add(new Sequence(concat(e.promptIds(), e.chosenIds()), e.promptIds().length));
                sequences.add(new Sequence(concat(e.promptIds(), e.rejectedIds()), e.promptIds().length));
            }
            long start = System.nanoTime();
            SequenceScorer scorer = new SequenceScorer(engine.model(), batchTokens);
            List<Score> scores = scorer.score(sequences);
            List<Score> reference = null;
            if (engine.model().adapter() != null) {
                reference = scorer.score(sequences, null);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long positions = sequences.stream().mapToLong(s -> s.ids().length).sum();
            int wins = 0;
            Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
            try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                for (int i = 0; i < examples.size(); i++) {
                    PreferenceExample e = examples.get(i);
                    Score c = scores.get(2 * i), r = scores.get(2 * i + 1);
                    wins += c.logprob() > r.logprob() ? 1 : 0;
                    Map<String, Object> rec = new LinkedHashMap<>();
                    rec.put("line", e.line());
                    rec.put("prompt_tokens", e.promptIds().length);
                    rec.put("chosen_tokens", c.tokens());
                    rec.put("rejected_tokens", r.tokens());
                    rec.put("chosen_logps", c.logprob());
                    rec.put("rejected_logps", r.logprob());
                    if (reference != null) {
                        double refC = reference.get(2 * i).logprob(), refR = reference.get(2 * i + 1).logprob();
                        rec.put("ref_chosen_logps", refC);
                        rec.put("ref_rejected_logps", refR);
                        rec.put("chosen_rewards", beta * (c.logprob() - refC));
                        rec.put("rejected_rewards", beta * (r.logprob() - refR));
                        rec.put("reward_margin", beta * (c.logprob() - refC - r.logprob() + refR));
                    }
                    w.write(Json.MAPPER.writeValueAsString(rec));
                    w.newLine();
                }
            }
            Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            console.printf("scored %d records (%d positions) in %.2f s, %.0f positions/s; chosen > rejected in %d%n",
                    examples.size(), positions, seconds, positions / seconds, wins);
        }
        return 0;
    }

    static int[] concat(int[] a, int[] b) {
        int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
