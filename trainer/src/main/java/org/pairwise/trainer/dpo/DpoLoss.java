package org.pairwise.trainer.dpo;

import java.util.Arrays;
import java.util.List;

/**
 * The DPO loss family of TRL's {@code DPOTrainer} on sequence log-probs, in double precision, as a forward/backward
 * pair: {@link #forward} gives the batch loss (TRL's reduction: the mean over pairs of each loss type, then the
 * {@code loss_weights}-weighted sum of the types) and the implicit rewards; {@link #backward} gives the gradient of
 * that loss with respect to each pair's policy log-probs, which the trainer backpropagates through the model. The
 * reference log-probs are constants.
 *
 * <p>Formulas follow TRL 1.9 ({@code DPOTrainer._compute_loss}, f-divergence {@code reverse_kl}, no {@code ld_alpha},
 * no WPO weighting), with these documented choices where TRL versions differ:
 * <ul>
 * <li>{@code sigmoid} with {@code label_smoothing} ε &gt; 0 is conservative DPO (cDPO), −(1−ε) log σ(u) − ε log σ(−u),
 *     as TRL 0.x computed it; TRL ≥ 0.29 ignores ε for {@code sigmoid}. With ε = 0 both agree.</li>
 * <li>{@code bco_pair}: TRL 1.x computes −log σ(βx_w) − log σ(−βx_l), with no shift (δ = 0); TRL ≤ 0.28 subtracted the
 *     running mean δ of the batch-mean rewards ({@link RunningMoments}, updated before use, including on evaluation
 *     batches). We follow TRL 1.x by default; {@link Params#bcoRewardShift()} restores the 0.x shift, and then this
 *     object owns the running moments ({@link #moments()}), which a checkpoint must save and restore.</li>
 * <li>{@code ipo} and {@code sigmoid_norm} divide each log-ratio by its completion token count (at least 1) inside the
 *     loss, as TRL 1.x does; rewards and {@code logps/*} stay the summed ones (TRL 0.x averaged them for ipo).</li>
 * <li>{@code sft} is PyTorch's {@code cross_entropy} over all chosen completion tokens of the micro-batch: −Σ_i
 *     log π_θ(y_w,i) / Σ_i n_w,i, a token-level mean over the batch (not a mean of per-sequence means), NaN when the
 *     batch has no chosen token, as in PyTorch.</li>
 * </ul>
 * Rewards are TRL's, for every loss type: r_w = β (log π_θ(y_w) − log π_ref(y_w)), r_l likewise, detached.
 *
 * <p>Per pair (TRL has no per-pair values; these extend its formulas so that all-default pairs give TRL's loss
 * exactly), from {@link PairBatch#weights()} and {@link PairBatch#labelSmoothing()}:
 * <ul>
 * <li>Label smoothing: pair i's ε_i, when set, replaces {@code label_smoothing} in pair i's term of every loss type
 *     that reads ε ({@link LossType#usesLabelSmoothing()}): sigmoid (cDPO, as above), robust and exo_pair. So a pair
 *     with ε_i has exactly the loss that configuration ε = ε_i gives it, and the ranges hold per pair: [0, 1),
 *     below ½ for robust, above 0 for exo_pair. aot and aot_unpaired also read ε, but on sorted positions that
 *     pair values of different pairs, so they refuse per-pair values ({@link LossType#couplesPairs()}); the other
 *     types ignore ε, and a pair's ε is refused when no configured type reads it, so a soft label is never dropped
 *     without a word.</li>
 * <li>Weight: w_i multiplies pair i's term, and the batch loss of each pairwise type is (1/B) Σ_i w_i ℓ_i: divided
 *     by B, TRL's mean over pairs, not by Σ_i w_i. All-ones weights then give TRL's loss; a weight is an absolute
 *     factor on its pair's gradient (a decayed old vote moves the policy less even in a batch of old votes only,
 *     which a division by Σ w would scale back up, and no pair's gradient depends on the others' weights); and
 *     micro-batch shares and gradient accumulation still add up exactly to the loss of the whole batch, which a
 *     division by Σ w per micro-batch would not. sft weights each pair's chosen log-prob in its token-level mean,
 *     −Σ_i w_i log π_θ(y_w,i) / Σ_i n_w,i, the denominator still the token count (the same reasoning per token).
 *     Rewards, {@code logps/*}, the metrics and BCO's running mean of rewards stay unweighted: they describe the
 *     pairs, not their terms of the loss.</li>
 * </ul>
 *
 * <p>Notation: B pairs; x_w, x_l the chosen/rejected log-ratios; z = x_w − x_l; u = β z; see {@link LossType}.
 */
public final class DpoLoss {

    /**
     * What the loss needs from the configuration: the loss types and their weights (TRL's {@code loss_type} list and
     * {@code loss_weights}), β, ε = {@code label_smoothing}, τ = {@code discopop_tau}, and the opt-in TRL 0.x BCO
     * shift.
     */
    public record Params(List<LossType> types, List<Double> weights, double beta, double labelSmoothing,
                         double discopopTau, boolean bcoRewardShift) {
        public Params {
            types = List.copyOf(types);
            weights = weights == null ? types.stream().map(t -> 1.0).toList() : List.copyOf(weights);
            if (types.isEmpty()) {
                throw new IllegalArgumentException("loss_type: at least one loss type is needed");
            }
            if (weights.size() != types.size()) {
                throw new IllegalArgumentException("loss_weights: " + weights.size() + " weights for " + types.size()
                        + " loss types");
            }
            for (double w : weights) {
                if (!Double.isFinite(w)) {
                    throw new IllegalArgumentException("loss_weights: " + w + " is not finite");
                }
            }
            if (!(beta > 0) || !Double.isFinite(beta)) {
                throw new IllegalArgumentException("beta: must be > 0, got " + beta);
            }
            if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
                throw new IllegalArgumentException("label_smoothing: must be in [0, 1), got " + labelSmoothing);
            }
            if (types.contains(LossType.ROBUST) && labelSmoothing >= 0.5) {
                throw new IllegalArgumentException("label_smoothing: must be in [0, 0.5) for the robust loss, got "
                        + labelSmoothing);
            }
            if (types.contains(LossType.EXO_PAIR) && labelSmoothing == 0) {
                throw new IllegalArgumentException("label_smoothing: must be > 0 for the exo_pair loss (the EXO paper "
                        + "recommends 1e-3)");
            }
            if (!(discopopTau > 0) || !Double.isFinite(discopopTau)) {
                throw new IllegalArgumentException("discopop_tau: must be > 0, got " + discopopTau);
            }
        }

        /** ε for pair i of the batch: its own label smoothing when set, else label_smoothing. */
        public double labelSmoothing(PairBatch batch, int i) {
            double own = batch.labelSmoothing()[i];
            return Double.isNaN(own) ? labelSmoothing : own;
        }

        /**
         * Why these loss types cannot take a pair with this weight and label smoothing (NaN: none), or null when
         * they can; the message names no pair, the caller says which.
         */
        public String perPairProblem(double weight, double pairLabelSmoothing) {
            boolean smoothed = !Double.isNaN(pairLabelSmoothing);
            if (!(weight >= 0) || Double.isInfinite(weight)) {
                return "a pair's weight must be finite and >= 0, got " + weight;
            }
            if (!smoothed && weight == 1.0) {
                return null;
            }
            for (LossType t : types) {
                if (t.couplesPairs()) {
                    return "loss_type " + t + " pairs sorted positions across the batch, so it takes no per-pair "
                            + "weight or label smoothing";
                }
            }
            if (!smoothed) {
                return null;
            }
            if (!(pairLabelSmoothing >= 0 && pairLabelSmoothing < 1)) {
                return "a pair's label smoothing must be in [0, 1), got " + pairLabelSmoothing;
            }
            if (types.stream().noneMatch(LossType::usesLabelSmoothing)) {
                return "loss_type " + types + " ignores label smoothing, so a pair's own label smoothing would be "
                        + "dropped; use sigmoid, robust or exo_pair";
            }
            if (types.contains(LossType.ROBUST) && pairLabelSmoothing >= 0.5) {
                return "a pair's label smoothing must be below 0.5 for the robust loss, got " + pairLabelSmoothing;
            }
            if (types.contains(LossType.EXO_PAIR) && pairLabelSmoothing == 0) {
                return "a pair's label smoothing must be > 0 for the exo_pair loss";
            }
            return null;
        }

        /** One loss type with weight 1, no label smoothing, TRL's default τ = 0.05. */
        public static Params of(LossType type, double beta) {
            return new Params(List.of(type), null, beta, 0.0, 0.05, false);
        }
    }

    /** Per-micro-batch results; allocate once per batch size and reuse. */
    public static final class Output {
        /** The batch loss (what TRL's {@code compute_loss} returns for this micro-batch). */
        public double loss;
        /**
         * Per pair: Σ_k w_k · w_i ℓ_k,i (loss_weights w_k, pair weights w_i; sft contributes its batch scalar, which
         * holds the pair weights already). For aot/aot_unpaired entry j belongs to the j-th sorted position, as in TRL.
         */
        public final double[] losses;
        /** β (log π_θ(y_w) − log π_ref(y_w)) per pair. */
        public final double[] chosenRewards;
        /** β (log π_θ(y_l) − log π_ref(y_l)) per pair. */
        public final double[] rejectedRewards;
        /** ∂loss/∂log π_θ(y_w) per pair, written by {@link #backward}. */
        public final double[] dChosen;
        /** ∂loss/∂log π_θ(y_l) per pair, written by {@link #backward}. */
        public final double[] dRejected;
        /** The BCO shift δ this forward used (0 unless the TRL 0.x shift is on); backward reuses it. */
        public double delta;

        public Output(int pairs) {
            losses = new double[pairs];
            chosenRewards = new double[pairs];
            rejectedRewards = new double[pairs];
            dChosen = new double[pairs];
            dRejected = new double[pairs];
        }
    }

    private final Params p;
    private final RunningMoments moments = new RunningMoments();

    public DpoLoss(Params params) {
        this.p = params;
    }

    public Params params() {
        return p;
    }

    /** The BCO running moments this loss owns (only used with {@link Params#bcoRewardShift()}). */
    public RunningMoments moments() {
        return moments;
    }

    // batch: B pairs; out.losses, out.chosenRewards, out.rejectedRewards: (B); returns out.loss, the batch loss
    public double forward(PairBatch batch, Output out) {
        double delta = 0;
        if (p.bcoRewardShift() && p.types().contains(LossType.BCO_PAIR)) {
            // TRL 0.x: one observation per micro-batch, the mean of all 2B rewards, merged before the loss reads δ.
            int b = batch.size();
            double sum = 0;
            for (int i = 0; i < b; i++) {
                sum += p.beta() * (batch.chosenLogRatio(i) + batch.rejectedLogRatio(i));
            }
            delta = moments.update(new double[] {sum / (2 * b)});
        }
        return forwardAt(batch, delta, out);
    }

    /** As {@link #forward} with the BCO shift δ given and the running moments left alone (evaluation, tests). */
    public double forwardAt(PairBatch batch, double delta, Output out) {
        int b = checkSize(batch, out);
        checkPerPair(batch);
        out.delta = delta;
        Arrays.fill(out.losses, 0);
        for (int i = 0; i < b; i++) {
            out.chosenRewards[i] = p.beta() * batch.chosenLogRatio(i);
            out.rejectedRewards[i] = p.beta() * batch.rejectedLogRatio(i);
        }
        double loss = 0;
        for (int k = 0; k < p.types().size(); k++) {
            loss += p.weights().get(k) * Terms.forward(p.types().get(k), p, batch, delta, out.losses,
                    p.weights().get(k));
        }
        out.loss = loss;
        return loss;
    }

    // batch: B pairs; out.dChosen, out.dRejected: (B) = dloss * ∂loss/∂(policy chosen, rejected log-probs)
    // Written, not accumulated: these belong to one micro-batch; accumulation happens in the parameter gradients.
    public void backward(PairBatch batch, Output out, double dloss) {
        checkSize(batch, out);
        Arrays.fill(out.dChosen, 0);
        Arrays.fill(out.dRejected, 0);
        for (int k = 0; k < p.types().size(); k++) {
            Terms.backward(p.types().get(k), p, batch, out.delta, dloss * p.weights().get(k), out.dChosen,
                    out.dRejected);
        }
    }

    private void checkPerPair(PairBatch batch) {
        if (!batch.hasPerPairLoss()) {
            return;
        }
        for (int i = 0; i < batch.size(); i++) {
            String problem = p.perPairProblem(batch.weights()[i], batch.labelSmoothing()[i]);
            if (problem != null) {
                throw new IllegalArgumentException("pair " + i + " of the batch: " + problem);
            }
        }
    }

    private static int checkSize(PairBatch batch, Output out) {
        if (out.losses.length != batch.size()) {
            throw new IllegalArgumentException("Output sized for " + out.losses.length + " pairs, batch has "
                    + batch.size());
        }
        return batch.size();
    }
}
