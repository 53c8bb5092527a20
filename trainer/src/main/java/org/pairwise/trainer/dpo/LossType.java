package org.pairwise.trainer.dpo;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The DPO loss family under TRL's {@code loss_type} names (TRL 1.9, {@code DPOConfig.loss_type}). Each constant
 * documents the per-pair loss it stands for, written with: x_w = log π_θ(y_w|x) − log π_ref(y_w|x) (the chosen
 * log-ratio), x_l likewise for the rejected completion, z = x_w − x_l, u = β z, σ the logistic function, ε =
 * {@code label_smoothing}, n_w and n_l the completion token counts. {@link DpoLoss} implements them.
 */
public enum LossType {
    /** DPO: −log σ(u); with ε > 0 conservative DPO (cDPO): −(1−ε) log σ(u) − ε log σ(−u), as TRL 0.x computes it. */
    SIGMOID("sigmoid"),
    /** SLiC: max(0, 1 − u). */
    HINGE("hinge"),
    /** IPO: (x_w/max(n_w,1) − x_l/max(n_l,1) − 1/(2β))², log-ratios averaged per completion token as TRL does. */
    IPO("ipo"),
    /** EXO (pairwise): σ(u)(log σ(u) − log(1−ε)) + σ(−u)(log σ(−u) − log ε); needs 0 &lt; ε &lt; 1. */
    EXO_PAIR("exo_pair"),
    /** NCA (pairwise): −log σ(βx_w) − ½ log σ(−βx_w) − ½ log σ(−βx_l). */
    NCA_PAIR("nca_pair"),
    /** Robust DPO: (−(1−ε) log σ(u) + ε log σ(−u)) / (1 − 2ε); needs 0 ≤ ε &lt; ½. */
    ROBUST("robust"),
    /** BCO (pairwise): −log σ(βx_w − δ) − log σ(−(βx_l − δ)); δ = 0 in current TRL (see {@link DpoLoss}). */
    BCO_PAIR("bco_pair"),
    /** SPPO with hard labels: (x_w − 1/(2β))² + (x_l + 1/(2β))². */
    SPPO_HARD("sppo_hard"),
    /** AOT (paired): the cDPO form on d_j = sort(log π_θ(y_w) − log π_θ(y_l))_j − sort(reference log-ratio)_j. */
    AOT("aot"),
    /** AOT (unpaired): the cDPO form on d_j = sort(x_w)_j − sort(x_l)_j over the batch. */
    AOT_UNPAIRED("aot_unpaired"),
    /** APO-zero: 1 − σ(βx_w) + σ(βx_l). */
    APO_ZERO("apo_zero"),
    /** APO-down: σ(βx_w) + 1 − σ(u). */
    APO_DOWN("apo_down"),
    /** DiscoPOP (log-ratio modulated): with m = σ(u/τ), (1−m)(−log σ(u)) + m e^(−u); τ = {@code discopop_tau}. */
    DISCOPOP("discopop"),
    /** NLL of the chosen completions: −Σ log π_θ(y_w) / Σ n_w, the token-level mean over the whole batch. */
    SFT("sft"),
    /** Length-normalised DPO: −log σ(β (x_w/max(n_w,1) − x_l/max(n_l,1))). */
    SIGMOID_NORM("sigmoid_norm");

    private final String trlName;

    LossType(String trlName) {
        this.trlName = trlName;
    }

    /**
     * Whether the loss reads ε = label_smoothing (TRL's sigmoid in 0.x, robust, exo_pair, aot, aot_unpaired); the
     * others ignore it, in TRL and here.
     */
    public boolean usesLabelSmoothing() {
        return switch (this) {
            case SIGMOID, ROBUST, EXO_PAIR, AOT, AOT_UNPAIRED -> true;
            default -> false;
        };
    }

    /**
     * Whether the loss pairs up values of different pairs (aot and aot_unpaired sort across the batch), so that a
     * term of the loss belongs to no single pair and a per-pair weight or label smoothing has nothing to apply to.
     */
    public boolean couplesPairs() {
        return this == AOT || this == AOT_UNPAIRED;
    }

    /** The name TRL and our config files use. */
    public String trlName() {
        return trlName;
    }

    /** The loss type with this TRL name; unknown names fail listing the valid ones. */
    public static LossType fromName(String name) {
        for (LossType t : values()) {
            if (t.trlName.equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown loss_type '" + name + "'; valid: " + validNames());
    }

    /** The valid names, comma separated, in declaration order. */
    public static String validNames() {
        return Arrays.stream(values()).map(LossType::trlName).collect(Collectors.joining(", "));
    }

    @Override
    public String toString() {
        return trlName;
    }
}
