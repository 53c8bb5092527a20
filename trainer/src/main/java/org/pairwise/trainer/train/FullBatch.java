package org.pairwise.trainer.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.pairwise.model.engine.SequenceScorer.Score;
import org.pairwise.trainer.data.PreferencePair;
import org.pairwise.trainer.data.Truncation;
import org.pairwise.trainer.dpo.DpoLoss;
import org.pairwise.trainer.dpo.DpoMetrics;
import org.pairwise.trainer.dpo.LogitSums;
import org.pairwise.trainer.dpo.LossType;
import org.pairwise.trainer.dpo.PairBatch;

/**
 * A whole data set taken as one batch, as {@code pairwise score} reports it: the batch loss (TRL's reduction over all
 * records), each record's loss as a batch of its own, TRL's batch metrics, and the gradient of that batch loss,
 * accumulated into a {@link DpoSession} over micro-batches that each fit a position budget. Scores carry no per-pair
 * weight or label smoothing (JSONL records have none); the gradient takes the pairs' own through the session, and its
 * micro-batch shares stay exact with them, since a weighted batch loss is still divided by the pair (or token) count.
 */
public final class FullBatch {
    private FullBatch() {}

    /**
     * The DPO view of all records: the batch of every record with the loss's output on it (rewards, batch loss),
     * each record's loss as a batch of its own (for pairwise loss types exactly TRL's per-pair loss; for sft, the
     * record's own NLL per token; for aot, the record unsorted against others), and TRL's metrics of the batch.
     */
    public record Scores(PairBatch batch, DpoLoss.Output out, double[] recordLoss, Map<String, Double> metrics) {}

    // policy, reference: 2n scores, record i's chosen at 2i and its rejected at 2i + 1; vocab: V, for logits/*
    public static Scores score(List<Score> policy, List<Score> reference, DpoLoss loss, long vocab) {
        int n = policy.size() / 2;
        double[] pc = new double[n], pr = new double[n], rc = new double[n], rr = new double[n];
        int[] nc = new int[n], nr = new int[n];
        double[] lc = new double[n], lr = new double[n];
        long[] cc = new long[n], cr = new long[n];
        for (int i = 0; i < n; i++) {
            Score c = policy.get(2 * i), r = policy.get(2 * i + 1);
            pc[i] = c.logprob();
            pr[i] = r.logprob();
            rc[i] = reference.get(2 * i).logprob();
            rr[i] = reference.get(2 * i + 1).logprob();
            nc[i] = c.tokens();
            nr[i] = r.tokens();
            lc[i] = c.logitsSum();
            lr[i] = r.logitsSum();
            cc[i] = c.tokens() * vocab;
            cr[i] = r.tokens() * vocab;
        }
        PairBatch batch = new PairBatch(pc, pr, rc, rr, nc, nr);
        DpoLoss.Output out = new DpoLoss.Output(n);
        loss.forwardAt(batch, 0, out);
        double[] recordLoss = new double[n];
        DpoLoss.Output one = new DpoLoss.Output(1);
        for (int i = 0; i < n; i++) {
            PairBatch single = new PairBatch(new double[] {pc[i]}, new double[] {pr[i]}, new double[] {rc[i]},
                    new double[] {rr[i]}, new int[] {nc[i]}, new int[] {nr[i]});
            recordLoss[i] = loss.forwardAt(single, 0, one);
        }
        DpoMetrics metrics = DpoMetrics.train();
        metrics.addMicroBatch(batch, out, new LogitSums(lc, cc, lr, cr));
        return new Scores(batch, out, recordLoss, metrics.snapshot());
    }

    /**
     * Accumulates into the session's gradients the gradient of its loss over all pairs as one batch, in micro-batches
     * of at most batchTokens positions. Each micro-batch's scale makes the sum exact: b/n for the pairwise losses (the
     * batch loss is a mean over pairs), its share of the chosen tokens for sft (a token-level mean). aot's sorted
     * pairing couples all records, and sft beside a pairwise type reduces two ways, so those run as one micro-batch.
     */
    public static void accumulateGradient(DpoSession session, List<PreferencePair> pairs, int batchTokens) {
        List<LossType> types = session.config().lossType();
        boolean sft = types.stream().allMatch(t -> t == LossType.SFT);
        boolean coupled = types.contains(LossType.AOT) || types.contains(LossType.AOT_UNPAIRED)
                || (types.contains(LossType.SFT) && !sft);
        Truncation truncation = session.config().truncation();
        List<Truncation.Pair> truncated = new ArrayList<>(pairs.size());
        long chosenTokens = 0;
        for (PreferencePair p : pairs) {
            Truncation.Pair t = truncation.apply(p);
            truncated.add(t);
            chosenTokens += t.chosen().completion().length;
        }
        int n = pairs.size();
        int i = 0;
        while (i < n) {
            int j = coupled ? n : end(truncated, i, batchTokens);
            double scale;
            if (sft) {
                long tokens = truncated.subList(i, j).stream().mapToLong(p -> p.chosen().completion().length).sum();
                scale = (double) tokens / chosenTokens;
            } else {
                scale = (double) (j - i) / n;
            }
            // An sft micro-batch without chosen tokens adds nothing (and its own mean would be 0/0).
            if (scale > 0) {
                session.accumulate(pairs.subList(i, j), scale);
            }
            i = j;
        }
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
