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

    /** maxBatchTokens bounds B*T of one batch (activation memory). */
    public SequenceScorer(LlamaModel model, int maxBatchTokens) {
        this.model = model;
        this.maxBatchTokens = maxBatchTokens;
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
        int N = B * T;
        int[] tokens = new int[N];
        int[] targets = new int[N];
        java.util.Arrays.fill(targets, -1);
        for (int b = 0; b < B; b++) {
            int[] ids = batch.get(b).ids();
            System.arraycopy(ids, 0, tokens, b * T, ids.length);
            // Position t predicts token t+1; only completion tokens count.
            for (int t = batch.get(b).promptLength() - 1; t + 1 < ids.length; t++) {
                targets[b * T + t] = ids[t + 1];
            }
        }
        Activations act = model.newActivations(N);
        KvCache cache = model.newCache(B, T);
        model.forward(act, cache, tokens, B, T, 0, adapter);
        float[] logp = new float[N];
        float[] logitSums = new float[N];
        model.tokenLogprobs(act, targets, N, logp, logitSums);
        List<Score> scores = new ArrayList<>(B);
        for (int b = 0; b < B; b++) {
            double sum = 0, logits = 0;
            int count = 0;
            for (int t = 0; t < T; t++) {
                if (targets[b * T + t] >= 0) {
                    sum += logp[b * T + t];
                    logits += logitSums[b * T + t];
                    count++;
                }
            }
            scores.add(new Score(sum, count, logits));
        }
        return scores;
    }

    private void checkLength(int T) {
        int max = model.config().maxPositionEmbeddings();
        if (T > max) {
            throw new IllegalArgumentException("a sequence of " + T + " tokens is longer than the model's context of "
                    + max + " positions");
        }
    }
}
