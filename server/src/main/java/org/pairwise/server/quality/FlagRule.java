package org.pairwise.server.quality;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * When the thresholds flag an annotator: their gold accuracy, or their agreement with the majority of the others,
 * is confidently below its threshold, that is the upper end of its 95% Wilson interval is under it, once they have
 * at least minVotes gold votes (gold) or votes compared with a clear majority (agreement). The upper bound, not the
 * rate: a careful annotator who misses 2 of their first 5 gold pairs (0.60, interval 0.23-0.88) is not flagged at a
 * threshold of 0.7; one who keeps missing 3 of 5 is, after 20 such votes (0.40, interval 0.22-0.61). minVotes only
 * keeps a decision from being taken on a handful of votes; the interval does the rest. A null threshold is off.
 */
public record FlagRule(Double minGoldAccuracy, Double minAgreement, int minVotes) {
    public static final FlagRule OFF = new FlagRule(null, null, 10);

    public FlagRule {
        check(minGoldAccuracy, "flag_min_gold_accuracy");
        check(minAgreement, "flag_min_agreement");
        if (minVotes < 1) {
            throw new IllegalArgumentException("flag_min_votes must be >= 1, got " + minVotes);
        }
    }

    private static void check(Double threshold, String name) {
        if (threshold != null && !(threshold >= 0 && threshold <= 1)) {
            throw new IllegalArgumentException(name + " must be in [0, 1], got " + threshold);
        }
    }

    /** Whether any threshold is set. */
    public boolean on() {
        return minGoldAccuracy != null || minAgreement != null;
    }

    /** Why this evidence flags the annotator (one clause per rule it breaks, in words), or empty. */
    public Optional<String> reason(GoldAccuracy gold, MajorityAgreement agreement) {
        List<String> why = new ArrayList<>();
        if (minGoldAccuracy != null && gold.answered() >= minVotes) {
            below("gold accuracy", gold.rate().orElseThrow(), minGoldAccuracy, "gold votes").ifPresent(why::add);
        }
        if (minAgreement != null && agreement.compared() >= minVotes) {
            below("agreement with the majority", agreement.rate().orElseThrow(), minAgreement,
                    "votes compared with a majority").ifPresent(why::add);
        }
        return why.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", why));
    }

    private static Optional<String> below(String what, Wilson.Proportion p, double threshold, String unit) {
        if (!(p.high() < threshold)) {
            return Optional.empty();
        }
        return Optional.of(String.format(Locale.ROOT, "%s %.2f (95%% CI %.2f-%.2f) below %.2f after %d %s", what,
                p.rate(), p.low(), p.high(), threshold, p.n(), unit));
    }
}
