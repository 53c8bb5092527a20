package org.pairwise.trainer.dpo;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * TRL's DPO training metrics for one logging window, under TRL's names. As in TRL 1.9's {@code DPOTrainer}, each
 * micro-batch contributes one value per metric (a mean over its pairs, or over its masked logits), and a log averages
 * those values; {@link #reset()} starts the next window, as TRL clears its lists after each {@code log}. {@code loss}
 * is averaged the same way, which equals transformers' per-optimizer-step average when every step has the same number
 * of micro-batches. {@code grad_norm} (of the latest step), {@code learning_rate}, {@code epoch} and
 * {@code num_tokens} (cumulative prompt + completion tokens of both sequences of every pair trained on) are set by the
 * trainer. {@link #eval()} prefixes every name but {@code epoch} with {@code eval_}, as transformers does. A
 * micro-batch whose step is skipped for a non-finite loss should not be added: transformers' default
 * {@code logging_nan_inf_filter} likewise keeps such losses out of the logged average.
 */
public final class DpoMetrics {
    /** The per-micro-batch metrics, in the order TRL records them. */
    public static final List<String> BATCH_METRICS = List.of("logits/chosen", "logits/rejected", "rewards/chosen",
            "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected");

    private final String prefix;
    private final Map<String, double[]> sums = new LinkedHashMap<>();  // name -> {sum of values, number of values}
    private double gradNorm = Double.NaN;
    private double learningRate = Double.NaN;
    private double epoch = Double.NaN;
    private long numTokens = -1;

    private DpoMetrics(String prefix) {
        this.prefix = prefix;
    }

    public static DpoMetrics train() {
        return new DpoMetrics("");
    }

    public static DpoMetrics eval() {
        return new DpoMetrics("eval_");
    }

    /** Records one micro-batch after {@link DpoLoss#forward}. */
    public void addMicroBatch(PairBatch batch, DpoLoss.Output out, LogitSums logits) {
        int b = batch.size();
        if (logits.chosenSum().length != b) {
            throw new IllegalArgumentException("LogitSums has " + logits.chosenSum().length + " pairs, batch " + b);
        }
        add("loss", out.loss);
        add("logits/chosen", maskedMean(logits.chosenSum(), logits.chosenCount()));
        add("logits/rejected", maskedMean(logits.rejectedSum(), logits.rejectedCount()));
        double rc = 0;
        double rr = 0;
        double acc = 0;
        double lc = 0;
        double lr = 0;
        for (int i = 0; i < b; i++) {
            rc += out.chosenRewards[i];
            rr += out.rejectedRewards[i];
            acc += out.chosenRewards[i] > out.rejectedRewards[i] ? 1 : 0;  // a tie is not a correct ranking
            lc += batch.policyChosen()[i];
            lr += batch.policyRejected()[i];
        }
        add("rewards/chosen", rc / b);
        add("rewards/rejected", rr / b);
        add("rewards/accuracies", acc / b);
        add("rewards/margins", (rc - rr) / b);
        add("logps/chosen", lc / b);
        add("logps/rejected", lr / b);
    }

    /** Adds one micro-batch value of any metric (e.g. {@code entropy}); averaged like the others. */
    public void add(String name, double value) {
        double[] s = sums.computeIfAbsent(name, k -> new double[2]);
        s[0] += value;
        s[1] += 1;
    }

    public void setGradNorm(double v) {
        gradNorm = v;
    }

    public void setLearningRate(double v) {
        learningRate = v;
    }

    public void setEpoch(double v) {
        epoch = v;
    }

    public void setNumTokens(long v) {
        numTokens = v;
    }

    /** Micro-batches recorded since the last reset. */
    public int count() {
        double[] s = sums.get("loss");
        return s == null ? 0 : (int) s[1];
    }

    /**
     * The window's metrics in log order: loss, grad_norm, learning_rate, num_tokens, the batch metrics, any extras,
     * epoch. Metrics with no value in this window are left out.
     */
    public Map<String, Double> snapshot() {
        Map<String, Double> out = new LinkedHashMap<>();
        putMean(out, "loss");
        putIf(out, prefix + "grad_norm", gradNorm);
        putIf(out, prefix + "learning_rate", learningRate);
        if (numTokens >= 0) {
            out.put(prefix + "num_tokens", (double) numTokens);
        }
        for (String name : BATCH_METRICS) {
            putMean(out, name);
        }
        for (String name : sums.keySet()) {
            if (!name.equals("loss") && !BATCH_METRICS.contains(name)) {
                putMean(out, name);
            }
        }
        putIf(out, "epoch", epoch);
        return out;
    }

    /** Clears the per-micro-batch values; the trainer-set values stay until set again. */
    public void reset() {
        sums.clear();
    }

    // TRL: sum over masked positions of the per-position vocabulary mean, over the number of positions; 0 if none.
    private static double maskedMean(double[] sum, long[] count) {
        double s = 0;
        long c = 0;
        for (int i = 0; i < sum.length; i++) {
            s += sum[i];
            c += count[i];
        }
        return c > 0 ? s / c : 0.0;
    }

    private void putMean(Map<String, Double> out, String name) {
        double[] s = sums.get(name);
        if (s != null && s[1] > 0) {
            out.put(prefix + name, s[0] / s[1]);
        }
    }

    private static void putIf(Map<String, Double> out, String key, double v) {
        if (!Double.isNaN(v)) {
            out.put(key, v);
        }
    }
}
