package org.pairwise.trainer.dpo;

/**
 * Running mean and variance of a stream, merged batch by batch (Chan et al.'s parallel update), as TRL's
 * {@code RunningMoments} keeps them for the BCO reward shift δ. It starts where TRL starts (mean 0, var 1, std 1,
 * count 1e-24), so the first update sets the mean to that batch's mean. The state is plain numbers so a checkpoint can
 * hold it: {@link #state()} and {@link #restore(State)}. Computed in double where TRL mixes float32 and Python floats.
 */
public final class RunningMoments {
    /** Everything a checkpoint needs to continue the stream exactly. */
    public record State(double mean, double std, double var, double count) {}

    private static final State INITIAL = new State(0.0, 1.0, 1.0, 1e-24);

    private double mean;
    private double std;
    private double var;
    private double count;

    public RunningMoments() {
        restore(INITIAL);
    }

    /** Merges one batch of observations; returns the new running mean. */
    public double update(double[] xs) {
        int n = xs.length;
        if (n == 0) {
            return mean;
        }
        double xsMean = 0;
        for (double x : xs) {
            xsMean += x;
        }
        xsMean /= n;
        double xsVar = 0;  // population variance, as torch.var_mean(unbiased=False)
        for (double x : xs) {
            xsVar += (x - xsMean) * (x - xsMean);
        }
        xsVar /= n;
        double delta = xsMean - mean;
        double total = count + n;
        double oldSum = var * count + delta * delta * count * n / total;
        double newVar = (oldSum + xsVar * n) / total;
        mean += delta * n / total;
        // With TRL's 1e-24 starting count, total − 1 is 0 in floating point after the first single-value update, so the
        // unbiased std is +∞ there exactly as in TRL; only the mean is used by the loss.
        std = Math.sqrt(newVar * total / (total - 1));
        var = newVar;
        count = total;
        return mean;
    }

    public double mean() {
        return mean;
    }

    public double std() {
        return std;
    }

    public State state() {
        return new State(mean, std, var, count);
    }

    public void restore(State s) {
        mean = s.mean();
        std = s.std();
        var = s.var();
        count = s.count();
    }
}
