package org.pairwise.model.engine;

import java.util.ArrayList;
import java.util.List;
import org.pairwise.model.lora.LoraAdapter;

/**
 * Sums next-token log-probs over the completion of each sequence (TRL's sequence log-prob): input = prompt ++
 * completion, positions that predict prompt tokens are masked. Sequences run in right-padded batches through the fused
 * log-prob kernel, so the (T,V) logits are never materialised.
 */
public final class SequenceScorer {

    /** One sequence to score: ids = prompt ++ completion, the first promptLength of them the prompt. */
    public record Sequence(int[] ids, int promptLength) {
        public Sequence {
            if (promptLength < 1 || promptLength > ids.length) {
                throw new IllegalArgumentException("prompt length " + promptLength + " must be in [1, " + ids.length
                        + "]: a completion needs at least one token before it");
            }
        }
    }

    /**
     * @param logprob    the summed log-prob of the completion tokens
     * @param tokens     how many completion tokens were scored
     * @param logitsSum  the sum of all vocabulary logits over those positions (TRL's logits/chosen numerator)
     */
    public record Score(double logprob, int tokens, double logitsSum) {}

    private final LlamaModel model;
    private final int maxBatchTokens;
    private final boolean sharePrompts;

    /** maxBatchTokens bounds B*T of one batch (activation memory); equal prompts in a batch are computed once. */
    public SequenceScorer(LlamaModel model, int maxBatchTokens) {
        this(model, maxBatchTokens, true);
    }

    /** sharePrompts false computes every sequence's prompt on its own (padded batches, for comparison). */
    public SequenceScorer(LlamaModel model, int maxBatchTokens, boolean sharePrompts) {
        this.model = model;
        this.maxBatchTokens = maxBatchTokens;
        this.sharePrompts = sharePrompts;
    }

    public List<Score> score(List<Sequence> sequences) {
        return score(sequences, model.adapter());
    }

    /** Scores under the given adapter (null: the base model, DPO's reference). */
    public List<Score> score(List<Sequence> sequences, LoraAdapter adapter) {
        List<Score> out = new ArrayList<>(sequences.size());
        int i = 0;
        while (i < sequences.size()) {
            int T = sequences.get(i).ids().length;
            checkLength(T);
            int j = i + 1;
            while (j < sequences.size()) {
                int t = Math.max(T, sequences.get(j).ids().length);
                if ((long) t * (j - i + 1) > maxBatchTokens) {
                    break;
                }
                T = t;
                j++;
            }
            out.addAll(scoreBatch(sequences.subList(i, j), T, adapter));
            i = j;
        }
        return out;
    }

    private List<Score> scoreBatch(List<Sequence> batch, int T, LoraAdapter adapter) {
        checkLength(T);
        int B = batch.size();
        BatchLayout lay = BatchLayout.of(batch, sharePrompts);
        int N = lay.rows();
        int[] targets = targets(batch, lay);
        Activations act = model.newActivations(B * T);
        KvCache cache = model.newCache(B, T);
        model.forward(act, cache, lay, adapter);
        float[] logp = new float[N];
        float[] logitSums = new float[N];
        model.tokenLogprobs(act, targets, N, logp, logitSums);
        List<Score> scores = new ArrayList<>(B);
        for (int b = 0; b < B; b++) {
            double sum = 0, logits = 0;
            int[] ids = batch.get(b).ids();
            for (int t = batch.get(b).promptLength() - 1; t + 1 < ids.length; t++) {
                int r = lay.row(b, t);
                sum += logp[r];
                logits += logitSums[r];
            }
            scores.add(new Score(sum, ids.length - batch.get(b).promptLength(), logits));
        }
        return scores;
    }

    /**
     * The next-token target of every row of a layout of these sequences: row (b, t) predicts ids[t+1] where that is a
     * completion token, -1 (masked) elsewhere: prompt positions before the last, pads.
     */
    public static int[] targets(List<Sequence> seqs, BatchLayout lay) {
        int[] targets = new int[lay.rows()];
        java.util.Arrays.fill(targets, -1);
        for (int b = 0; b < seqs.size(); b++) {
            int[] ids = seqs.get(b).ids();
            for (int t = seqs.get(b).promptLength() - 1; t + 1 < ids.length; t++) {
                targets[lay.row(b, t)] = ids[t + 1];
            }
        }
        return targets;
    }

    private void checkLength(int T) {
        int max = model.config().maxPositionEmbeddings();
        if (T > max) {
            throw new IllegalArgumentException("a sequence of " + T + " tokens is longer than the model's context of "
                    + max + " positions");
        }
    }
}
