package org.pairwise.launcher;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.pairwise.accel.Backend;
import org.pairwise.accel.DType;
import org.pairwise.model.engine.LlamaModel;
import org.pairwise.model.load.SafetensorsWriter;
import org.pairwise.model.load.TensorData;
import org.pairwise.model.load.Tensors;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.model.lora.LoraConfig;
import org.pairwise.model.lora.LoraGradients;
import org.pairwise.trainer.data.PreferenceExample;
import org.pairwise.trainer.data.Truncation;
import org.pairwise.trainer.dpo.DpoLoss;
import org.pairwise.trainer.dpo.LossType;
import org.pairwise.trainer.train.DpoStep;
import org.pairwise.trainer.train.ReferenceLogps;

/**
 * {@code score --grads-out}: the gradient of the batch loss over all records (the {@code loss} that score prints)
 * with respect to every LoRA tensor, accumulated over micro-batches that each fit the position budget. The scale of
 * each micro-batch makes the sum exact: b/n for the pairwise losses (the batch loss is a mean over pairs), its share
 * of the chosen tokens for sft (a token-level mean), and aot's sorted pairing couples all records, so for aot and
 * aot_unpaired all records form one micro-batch.
 */
final class ScoreGradients {
    private ScoreGradients() {}

    static void write(Path file, LlamaModel model, List<PreferenceExample> examples, DpoLoss loss,
                      ReferenceLogps reference, int batchTokens) throws IOException {
        LoraAdapter policy = model.adapter();
        Backend be = model.backend();
        LoraGradients grads = new LoraGradients(policy, model.config(), be);
        grads.zero();
        DpoStep step = new DpoStep(model, policy, grads, loss, reference, false);
        LossType type = loss.params().types().getFirst();
        boolean coupled = type == LossType.AOT || type == LossType.AOT_UNPAIRED;
        List<Truncation.Pair> pairs = new ArrayList<>(examples.size());
        long chosenTokens = 0;
        for (PreferenceExample e : examples) {
            pairs.add(new Truncation.Pair(e.line(), new Truncation.Sequence(e.promptIds(), e.chosenIds()),
                    new Truncation.Sequence(e.promptIds(), e.rejectedIds())));
            chosenTokens += e.chosenIds().length;
        }
        int n = pairs.size();
        int i = 0;
        while (i < n) {
            int j = coupled ? n : end(pairs, i, batchTokens);
            List<Truncation.Pair> micro = pairs.subList(i, j);
            double scale;
            if (type == LossType.SFT) {
                long tokens = micro.stream().mapToLong(p -> p.chosen().completion().length).sum();
                scale = (double) tokens / chosenTokens;
            } else {
                scale = (double) micro.size() / n;
            }
            // An sft micro-batch without chosen tokens adds nothing (and its own mean would be 0/0).
            if (scale > 0) {
                step.run(micro, scale, true);
            }
            i = j;
        }
        List<TensorData> tensors = new ArrayList<>();
        int r = policy.rank();
        for (int l = 0; l < model.config().numLayers(); l++) {
            for (String p : policy.config().targetModules()) {
                LoraAdapter.Pair ab = policy.pair(l, p);
                LoraGradients.Pair g = grads.pair(l, p);
                tensors.add(Tensors.of(LoraConfig.key(l, p, "A"), DType.F32, new long[] {r, ab.in()},
                        be.download(g.dA())));
                tensors.add(Tensors.of(LoraConfig.key(l, p, "B"), DType.F32, new long[] {ab.out(), r},
                        be.download(g.dB())));
            }
        }
        SafetensorsWriter.write(file, tensors, Map.of("format", "pt"));
    }

    // The micro-batch from pair i: as many pairs as keep 2b sequences x the longest length within the budget (one at
    // least), as the scorer batches.
    private static int end(List<Truncation.Pair> pairs, int i, int batchTokens) {
        int T = Math.max(pairs.get(i).chosen().length(), pairs.get(i).rejected().length());
        int j = i + 1;
        while (j < pairs.size()) {
            Truncation.Pair p = pairs.get(j);
            int t = Math.max(T, Math.max(p.chosen().length(), p.rejected().length()));
            if ((long) t * 2 * (j - i + 1) > batchTokens) {
                break;
            }
            T = t;
            j++;
        }
        return j;
    }
}
