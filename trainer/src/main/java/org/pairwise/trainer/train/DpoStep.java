package org.pairwise.trainer.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.pairwise.accel.Backend;
import org.pairwise.model.engine.Activations;
import org.pairwise.model.engine.BatchLayout;
import org.pairwise.model.engine.KvCache;
import org.pairwise.model.engine.LlamaBackward;
import org.pairwise.model.engine.LlamaModel;
import org.pairwise.model.engine.SequenceScorer;
import org.pairwise.model.engine.SequenceScorer.Score;
import org.pairwise.model.engine.SequenceScorer.Sequence;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.model.lora.LoraGradients;
import org.pairwise.trainer.data.Truncation;
import org.pairwise.trainer.dpo.DpoLoss;
import org.pairwise.trainer.dpo.LogitSums;
import org.pairwise.trainer.dpo.PairBatch;

/**
 * One micro-batch of DPO: the 2B sequences (B chosen, then B rejected, each prompt ++ completion) go through the
 * policy once with layer state kept, the reference log-probs come from {@link ReferenceLogps}, the loss gives
 * d(loss)/d(sequence log-prob), and the backward pass spreads each over that sequence's completion positions and
 * accumulates into the LoRA gradients. With share_prompt a pair's prompt is computed once for both completions
 * ({@link BatchLayout}): the rows shrink from S*T to about B*(prompt + 2 completions). Letters: B pairs, S = 2B
 * sequences, T the longest, N rows.
 */
public final class DpoStep {
    /** What one micro-batch produced: the loss's view, its output, the logits sums for TRL's metric, tokens seen. */
    public record Result(PairBatch batch, DpoLoss.Output out, LogitSums logits, long tokens) {}

    private final LlamaModel model;
    private final Backend be;
    private final LoraAdapter policy;
    private final LoraGradients grads;
    private final DpoLoss loss;
    private final ReferenceLogps reference;
    private final boolean gradientCheckpointing;
    private final boolean sharePrompt;
    private Activations act;
    private LlamaBackward backward;
    private int capN, capS, capT;

    /** A step that computes each pair's shared prompt once ({@link BatchLayout}). */
    public DpoStep(LlamaModel model, LoraAdapter policy, LoraGradients grads, DpoLoss loss, ReferenceLogps reference,
                   boolean gradientCheckpointing) {
        this(model, policy, grads, loss, reference, gradientCheckpointing, true);
    }

    /** sharePrompt false runs chosen and rejected as two whole padded sequences each (share_prompt). */
    public DpoStep(LlamaModel model, LoraAdapter policy, LoraGradients grads, DpoLoss loss, ReferenceLogps reference,
                   boolean gradientCheckpointing, boolean sharePrompt) {
        this.model = model;
        this.gradientCheckpointing = gradientCheckpointing;
        this.sharePrompt = sharePrompt;
        this.be = model.backend();
        this.policy = policy;
        this.grads = grads;
        this.loss = loss;
        this.reference = reference;
    }

    /** Sequences in DpoStep order: the B chosen ones, then the B rejected ones. */
    public static List<Sequence> sequences(List<Truncation.Pair> pairs) {
        List<Sequence> out = new ArrayList<>(2 * pairs.size());
        for (Truncation.Pair p : pairs) {
            out.add(sequence(p.chosen()));
        }
        for (Truncation.Pair p : pairs) {
            out.add(sequence(p.rejected()));
        }
        return out;
    }

    // A prompt truncated away entirely (keep_end) leaves no position to predict the first completion token from:
    // that token then conditions the rest and is not scored itself.
    private static Sequence sequence(Truncation.Sequence s) {
        return new Sequence(s.ids(), Math.max(1, s.prompt().length));
    }

    /**
     * Forward, loss, and (when backward is true) the backward pass scaled by lossScale (1/gradient_accumulation_steps,
     * as the Trainer divides the loss), accumulated into the gradients.
     */
    public Result run(List<Truncation.Pair> pairs, double lossScale, boolean backward) {
        int B = pairs.size(), S = 2 * B;
        List<Sequence> seqs = sequences(pairs);
        List<Score> ref = reference.get(seqs);
        int T = 0;
        long tokens = 0;
        for (Sequence s : seqs) {
            T = Math.max(T, s.ids().length);
            tokens += s.ids().length;
        }
        int max = model.config().maxPositionEmbeddings();
        if (T > max) {
            throw new IllegalArgumentException("a sequence of " + T + " tokens exceeds the model's context of " + max
                    + "; lower max_length");
        }
        BatchLayout lay = BatchLayout.of(seqs, sharePrompt);
        int N = lay.rows();
        ensureCapacity(N, S, T);
        int[] targets = SequenceScorer.targets(seqs, lay);
        KvCache cache = model.newCache(S, T);
        model.forward(act, cache, lay, policy);
        float[] logp = new float[N], logitSum = new float[N];
        model.tokenLogprobs(act, targets, N, logp, logitSum);
        double[] seqLogp = new double[S], seqLogits = new double[S];
        long[] counts = new long[S];
        int[] completion = new int[S];
        long V = model.config().vocabSize();
        for (int s = 0; s < S; s++) {
            Sequence q = seqs.get(s);
            for (int t = q.promptLength() - 1; t + 1 < q.ids().length; t++) {
                int r = lay.row(s, t);
                seqLogp[s] += logp[r];
                seqLogits[s] += logitSum[r];
                completion[s]++;
            }
            counts[s] = completion[s] * V;
        }
        double[] refC = new double[B], refR = new double[B], weights = new double[B], smoothing = new double[B];
        for (int i = 0; i < B; i++) {
            refC[i] = ref.get(i).logprob();
            refR[i] = ref.get(B + i).logprob();
            weights[i] = pairs.get(i).weight();
            smoothing[i] = pairs.get(i).labelSmoothing();
        }
        PairBatch batch = new PairBatch(Arrays.copyOfRange(seqLogp, 0, B), Arrays.copyOfRange(seqLogp, B, S), refC,
                refR, Arrays.copyOfRange(completion, 0, B), Arrays.copyOfRange(completion, B, S), weights, smoothing);
        LogitSums logits = new LogitSums(Arrays.copyOfRange(seqLogits, 0, B), Arrays.copyOfRange(counts, 0, B),
                Arrays.copyOfRange(seqLogits, B, S), Arrays.copyOfRange(counts, B, S));
        DpoLoss.Output out = new DpoLoss.Output(B);
        loss.forward(batch, out);
        if (backward) {
            loss.backward(batch, out, lossScale);
            float[] dlogp = new float[N];
            for (int s = 0; s < S; s++) {
                double d = s < B ? out.dChosen[s] : out.dRejected[s - B];
                Sequence q = seqs.get(s);
                for (int t = q.promptLength() - 1; t + 1 < q.ids().length; t++) {
                    dlogp[lay.row(s, t)] = (float) d;
                }
            }
            this.backward.backward(act, cache, lay, targets, be.upload(dlogp), policy, grads);
        }
        return new Result(batch, out, logits, tokens);
    }

    // Activation buffers grow to the largest micro-batch seen and are reused: a step allocates no layer state.
    private void ensureCapacity(int N, int S, int T) {
        if (act == null || N > capN || S > capS || T > capT) {
            capN = Math.max(N, capN);
            capS = Math.max(S, capS);
            capT = Math.max(T, capT);
            act = model.newTrainingActivations(capN, capS, capT, gradientCheckpointing);
            backward = new LlamaBackward(model, capN);
        }
    }
}
