package org.pairwise.server.eval;

/**
 * Maximum-likelihood Bradley-Terry log-strengths θ (P(i beats j) = σ(θ_i − θ_j)) by two independent methods that
 * maximise the same objective. K is the number of players; wins is (K,K): wins[i][j] is what i is credited against
 * j (a win 1, a tie ½ to each side), n_ij = wins[i][j] + wins[j][i].
 *
 * <p>The prior. The plain MLE is infinite for a player that never lost (or never won) and undetermined between
 * players no comparison connects. Both methods therefore add, for every player, {@code priorTies} virtual tied battles
 * against a fixed virtual player of log-strength 0 (the average): the term (ε/2)(log σ(θ_i) + log σ(−θ_i)), ε =
 * priorTies. With ε = 1 this is the Jeffreys prior Beta(½, ½) on σ(θ_i), player i's chance of beating an average
 * player. It is symmetric (no player favoured), makes the objective strictly concave with a unique finite maximum for
 * any data, and its weight, ε per player, is negligible next to a few dozen real battles.
 */
final class BradleyTerryFit {
    private BradleyTerryFit() {}

    static final int MAX_NEWTON_STEPS = 200;
    static final int MAX_MM_ITERATIONS = 2_000_000;

    /** log σ(x), stable for large |x|. */
    static double logSigmoid(double x) {
        return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
    }

    static double sigmoid(double x) {
        return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    }

    /** The penalised log-likelihood. theta is (K). */
    static double logLikelihood(double[][] wins, double priorTies, double[] theta) {
        int k = theta.length;
        double l = 0;
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                if (i != j && wins[i][j] > 0) {
                    l += wins[i][j] * logSigmoid(theta[i] - theta[j]);
                }
            }
            l += priorTies / 2 * (logSigmoid(theta[i]) + logSigmoid(-theta[i]));
        }
        return l;
    }

    /** Its gradient: g_i = Σ_j (w_ij − n_ij σ(θ_i − θ_j)) + ε/2 − ε σ(θ_i). theta is (K), g is (K). */
    static double[] gradient(double[][] wins, double priorTies, double[] theta) {
        int k = theta.length;
        double[] g = new double[k];
        for (int i = 0; i < k; i++) {
            double gi = priorTies / 2 - priorTies * sigmoid(theta[i]);
            for (int j = 0; j < k; j++) {
                if (i != j) {
                    gi += wins[i][j] - (wins[i][j] + wins[j][i]) * sigmoid(theta[i] - theta[j]);
                }
            }
            g[i] = gi;
        }
        return g;
    }

    /**
     * Newton's method: solve (−H)Δ = g by Cholesky (−H is positive definite thanks to the prior), halve the step
     * while the objective would drop, stop when the largest step is below 1e-12. start is (K), or null for 0.
     */
    static double[] newton(double[][] wins, double priorTies, double[] start) {
        int k = wins.length;
        double[] theta = start == null ? new double[k] : start.clone();
        double current = logLikelihood(wins, priorTies, theta);
        for (int step = 0; step < MAX_NEWTON_STEPS; step++) {
            double[] g = gradient(wins, priorTies, theta);
            double[][] negH = new double[k][k]; // −H: H_ii = −Σ_j n_ij s(1−s) − ε σ_i(1−σ_i), H_ij = n_ij s(1−s)
            for (int i = 0; i < k; i++) {
                double si = sigmoid(theta[i]);
                negH[i][i] = priorTies * si * (1 - si);
                for (int j = 0; j < k; j++) {
                    if (i != j) {
                        double n = wins[i][j] + wins[j][i];
                        if (n > 0) {
                            double s = sigmoid(theta[i] - theta[j]);
                            double c = n * s * (1 - s);
                            negH[i][i] += c;
                            negH[i][j] -= c;
                        }
                    }
                }
            }
            double[] delta = solveSpd(negH, g);
            double largest = 0;
            for (double d : delta) {
                largest = Math.max(largest, Math.abs(d));
            }
            double scale = 1;
            double[] next = new double[k];
            double value;
            while (true) {
                for (int i = 0; i < k; i++) {
                    next[i] = theta[i] + scale * delta[i];
                }
                value = logLikelihood(wins, priorTies, next);
                if (value >= current - 1e-12 * Math.abs(current) || scale < 1e-10) {
                    break;
                }
                scale /= 2;
            }
            theta = next.clone();
            current = value;
            if (largest * scale < 1e-12) {
                return theta;
            }
        }
        throw new IllegalStateException("Newton's method did not converge in " + MAX_NEWTON_STEPS + " steps");
    }

    /**
     * The minorize-maximize iteration of Hunter (2004), "MM algorithms for generalized Bradley-Terry models", eq. 3,
     * on strengths γ = e^θ, the virtual average player (γ = 1) included as one more opponent:
     * γ_i ← (Σ_j w_ij + ε/2) / (Σ_j n_ij/(γ_i + γ_j) + ε/(γ_i + 1)), all players at once. Each step cannot lower the
     * objective; it converges linearly, so it stops only when no log-strength moves by more than 1e-13.
     */
    static double[] minorizeMaximize(double[][] wins, double priorTies) {
        int k = wins.length;
        double[] gamma = new double[k];
        java.util.Arrays.fill(gamma, 1.0);
        double[] next = new double[k];
        for (int iteration = 0; iteration < MAX_MM_ITERATIONS; iteration++) {
            double largest = 0;
            for (int i = 0; i < k; i++) {
                double credited = priorTies / 2;
                double denom = priorTies / (gamma[i] + 1);
                for (int j = 0; j < k; j++) {
                    if (i != j) {
                        credited += wins[i][j];
                        double n = wins[i][j] + wins[j][i];
                        if (n > 0) {
                            denom += n / (gamma[i] + gamma[j]);
                        }
                    }
                }
                next[i] = credited / denom;
                largest = Math.max(largest, Math.abs(Math.log(next[i] / gamma[i])));
            }
            System.arraycopy(next, 0, gamma, 0, k);
            if (largest < 1e-13) {
                double[] theta = new double[k];
                for (int i = 0; i < k; i++) {
                    theta[i] = Math.log(gamma[i]);
                }
                return theta;
            }
        }
        throw new IllegalStateException("the MM iteration did not converge in " + MAX_MM_ITERATIONS + " iterations");
    }

    /** Solves A x = b for a symmetric positive definite A (K,K) by Cholesky, A = L Lᵀ. */
    static double[] solveSpd(double[][] a, double[] b) {
        int k = b.length;
        double[][] l = new double[k][k];
        for (int i = 0; i < k; i++) {
            for (int j = 0; j <= i; j++) {
                double s = a[i][j];
                for (int m = 0; m < j; m++) {
                    s -= l[i][m] * l[j][m];
                }
                if (i == j) {
                    if (!(s > 0)) {
                        throw new IllegalStateException("the Hessian is not negative definite (pivot " + s + ")");
                    }
                    l[i][i] = Math.sqrt(s);
                } else {
                    l[i][j] = s / l[j][j];
                }
            }
        }
        double[] y = new double[k];
        for (int i = 0; i < k; i++) {
            double s = b[i];
            for (int m = 0; m < i; m++) {
                s -= l[i][m] * y[m];
            }
            y[i] = s / l[i][i];
        }
        double[] x = new double[k];
        for (int i = k - 1; i >= 0; i--) {
            double s = y[i];
            for (int m = i + 1; m < k; m++) {
                s -= l[m][i] * x[m];
            }
            x[i] = s / l[i][i];
        }
        return x;
    }
}
