package org.pairwise.trainer.dpo;

import java.util.Arrays;
import java.util.Comparator;

/**
 * One loss type's forward (its weighted mean over the B pairs, (1/B) Σ_i w_i ℓ_i) and backward (∂ of that mean with
 * respect to each pair's policy chosen/rejected log-probs, which equal ∂/∂x_w and ∂/∂x_l since the reference is
 * constant). The backward's switch
 * follows the forward's case for case, so each derivative can be checked against its loss on one screen. Notation as
 * in {@link LossType}.
 */
final class Terms {
    private Terms() {}

    // batch: B pairs with weights w (B); losses (B) += weight * w_i ℓ_i; returns (1/B) Σ_i w_i ℓ_i (sft: its
    // weighted token mean, see DpoLoss). ℓ_i reads pair i's ε where the type reads ε at all.
    static double forward(LossType t, DpoLoss.Params p, PairBatch b, double delta, double[] losses, double weight) {
        int n = b.size();
        double beta = p.beta();
        double[] w = b.weights();
        double[] l = new double[n];
        switch (t) {
            case SIGMOID -> each(n, i -> cdpo(beta * z(b, i), p.labelSmoothing(b, i)), l);
            case HINGE -> each(n, i -> Math.max(0, 1 - beta * z(b, i)), l);
            case IPO -> each(n, i -> sq(avgZ(b, i) - 1 / (2 * beta)), l);
            case EXO_PAIR -> each(n, i -> exo(beta * z(b, i), p.labelSmoothing(b, i)), l);
            case NCA_PAIR -> each(n, i -> {
                double rw = beta * b.chosenLogRatio(i);
                double rl = beta * b.rejectedLogRatio(i);
                return -logSigmoid(rw) - 0.5 * logSigmoid(-rw) - 0.5 * logSigmoid(-rl);
            }, l);
            case ROBUST -> each(n, i -> {
                double u = beta * z(b, i);
                double eps = p.labelSmoothing(b, i);
                return (-(1 - eps) * logSigmoid(u) + eps * logSigmoid(-u)) / (1 - 2 * eps);
            }, l);
            case BCO_PAIR -> each(n, i -> -logSigmoid(beta * b.chosenLogRatio(i) - delta)
                    - logSigmoid(-(beta * b.rejectedLogRatio(i) - delta)), l);
            case SPPO_HARD -> each(n, i -> sq(b.chosenLogRatio(i) - 0.5 / beta)
                    + sq(b.rejectedLogRatio(i) + 0.5 / beta), l);
            case AOT, AOT_UNPAIRED -> {
                // Sorted positions belong to no pair: DpoLoss refuses per-pair values, so w = 1, ε = the config's.
                Sorted s = sorted(t, b);
                each(n, j -> cdpo(beta * s.d()[j], p.labelSmoothing()), l);
            }
            case APO_ZERO -> each(n, i -> 1 - sigmoid(beta * b.chosenLogRatio(i))
                    + sigmoid(beta * b.rejectedLogRatio(i)), l);
            case APO_DOWN -> each(n, i -> sigmoid(beta * b.chosenLogRatio(i)) + 1 - sigmoid(beta * z(b, i)), l);
            case DISCOPOP -> each(n, i -> discopop(beta * z(b, i), p.discopopTau()), l);
            case SFT -> {
                double nll = -weightedSum(b.policyChosen(), w) / sumTokens(b.chosenTokens());
                Arrays.fill(l, nll);  // TRL expands the batch scalar to every pair; the mean is unchanged
            }
            case SIGMOID_NORM -> each(n, i -> -logSigmoid(beta * avgZ(b, i)), l);
        }
        double mean = 0;
        for (int i = 0; i < n; i++) {
            double wl = t == LossType.SFT ? l[i] : w[i] * l[i];  // sft's scalar already holds the weights
            losses[i] += weight * wl;
            mean += wl;
        }
        return mean / n;
    }

    // batch: B pairs; gw, gl (B) += scale * ∂(forward's return)/∂(x_w, x_l); pair i's terms carry w_i and its ε
    static void backward(LossType t, DpoLoss.Params p, PairBatch b, double delta, double scale, double[] gw,
                         double[] gl) {
        int n = b.size();
        double beta = p.beta();
        for (int i = 0; i < n; i++) {
            double s = scale * b.weights()[i] / n;  // pair i's share of the mean over pairs
            double eps = p.labelSmoothing(b, i);
            double xw = b.chosenLogRatio(i);
            double xl = b.rejectedLogRatio(i);
            double u = beta * (xw - xl);
            switch (t) {
                case SIGMOID -> pairU(gw, gl, i, s * beta * dcdpo(u, eps));
                case HINGE -> pairU(gw, gl, i, s * beta * (u < 1 ? -1 : 0));  // relu'(0) = 0, as PyTorch
                case IPO -> {
                    double g = s * 2 * (avgZ(b, i) - 1 / (2 * beta));
                    gw[i] += g / Math.max(b.chosenTokens()[i], 1);
                    gl[i] -= g / Math.max(b.rejectedTokens()[i], 1);
                }
                case EXO_PAIR -> pairU(gw, gl, i,
                        s * beta * sigmoid(u) * sigmoid(-u) * (u - Math.log1p(-eps) + Math.log(eps)));
                case NCA_PAIR -> {
                    gw[i] += s * beta * (-sigmoid(-beta * xw) + 0.5 * sigmoid(beta * xw));
                    gl[i] += s * beta * 0.5 * sigmoid(beta * xl);
                }
                case ROBUST -> pairU(gw, gl, i,
                        s * beta * (-(1 - eps) * sigmoid(-u) - eps * sigmoid(u)) / (1 - 2 * eps));
                case BCO_PAIR -> {
                    gw[i] += -s * beta * sigmoid(-(beta * xw - delta));
                    gl[i] += s * beta * sigmoid(beta * xl - delta);
                }
                case SPPO_HARD -> {
                    gw[i] += s * 2 * (xw - 0.5 / beta);
                    gl[i] += s * 2 * (xl + 0.5 / beta);
                }
                case AOT, AOT_UNPAIRED -> { }  // coupled through the sort; handled below
                case APO_ZERO -> {
                    gw[i] += -s * beta * dsigmoid(beta * xw);
                    gl[i] += s * beta * dsigmoid(beta * xl);
                }
                case APO_DOWN -> {
                    gw[i] += s * beta * (dsigmoid(beta * xw) - dsigmoid(u));
                    gl[i] += s * beta * dsigmoid(u);
                }
                case DISCOPOP -> pairU(gw, gl, i, s * beta * ddiscopop(u, p.discopopTau()));
                case SFT -> gw[i] += -scale * b.weights()[i] / sumTokens(b.chosenTokens());  // a token mean
                case SIGMOID_NORM -> {
                    double g = -s * beta * sigmoid(-beta * avgZ(b, i));
                    gw[i] += g / Math.max(b.chosenTokens()[i], 1);
                    gl[i] -= g / Math.max(b.rejectedTokens()[i], 1);
                }
            }
        }
        if (t == LossType.AOT || t == LossType.AOT_UNPAIRED) {
            // Sorting only permutes: sorted position j sends its gradient back to the pairs it was read from.
            Sorted so = sorted(t, b);
            double s = scale / n;
            for (int j = 0; j < n; j++) {
                double g = s * beta * dcdpo(beta * so.d()[j], p.labelSmoothing());
                gw[so.w()[j]] += g;
                gl[so.l()[j]] -= g;
            }
        }
    }

    /**
     * AOT's sorted pairing: d[j] is the loss argument at sorted position j; its gradient goes with + to the policy
     * chosen log-prob of pair w[j] and with − to the policy rejected log-prob of pair l[j]. aot sorts the policy
     * log-ratio log π_θ(y_w) − log π_θ(y_l) and the reference one separately (the reference is constant, so w = l = the
     * policy order); aot_unpaired sorts x_w and x_l separately. Ascending, as {@code torch.sort}.
     */
    private record Sorted(double[] d, int[] w, int[] l) {}

    private static Sorted sorted(LossType t, PairBatch b) {
        int n = b.size();
        double[] a = new double[n];
        double[] r = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = t == LossType.AOT ? b.policyChosen()[i] - b.policyRejected()[i] : b.chosenLogRatio(i);
            r[i] = t == LossType.AOT ? b.refChosen()[i] - b.refRejected()[i] : b.rejectedLogRatio(i);
        }
        int[] oa = order(a);
        int[] or = order(r);
        double[] d = new double[n];
        for (int j = 0; j < n; j++) {
            d[j] = a[oa[j]] - r[or[j]];
        }
        return new Sorted(d, oa, t == LossType.AOT ? oa : or);
    }

    private static int[] order(double[] v) {
        Integer[] idx = new Integer[v.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, Comparator.comparingDouble(i -> v[i]));  // stable, like torch.sort(stable=True)
        int[] out = new int[idx.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = idx[i];
        }
        return out;
    }

    private interface PerPair {
        double at(int i);
    }

    private static void each(int n, PerPair f, double[] out) {
        for (int i = 0; i < n; i++) {
            out[i] = f.at(i);
        }
    }

    // ∂ℓ/∂u enters x_w with +β and x_l with −β; callers pass s·β·ℓ'(u).
    private static void pairU(double[] gw, double[] gl, int i, double g) {
        gw[i] += g;
        gl[i] -= g;
    }

    private static double z(PairBatch b, int i) {
        return b.chosenLogRatio(i) - b.rejectedLogRatio(i);
    }

    private static double avgZ(PairBatch b, int i) {
        return b.chosenLogRatio(i) / Math.max(b.chosenTokens()[i], 1)
                - b.rejectedLogRatio(i) / Math.max(b.rejectedTokens()[i], 1);
    }

    // cDPO: −(1−ε) log σ(u) − ε log σ(−u); plain DPO at ε = 0.
    static double cdpo(double u, double eps) {
        return -(1 - eps) * logSigmoid(u) - eps * logSigmoid(-u);
    }

    static double dcdpo(double u, double eps) {
        return -(1 - eps) * sigmoid(-u) + eps * sigmoid(u);
    }

    static double exo(double u, double eps) {
        return sigmoid(u) * (logSigmoid(u) - Math.log1p(-eps)) + sigmoid(-u) * (logSigmoid(-u) - Math.log(eps));
    }

    static double discopop(double u, double tau) {
        double m = sigmoid(u / tau);
        return (1 - m) * -logSigmoid(u) + m * Math.exp(-u);
    }

    // d/du of (1−m)·f + m·g with f = −log σ(u), g = e^(−u), m = σ(u/τ): (1−m)f' + m g' + m'(g − f).
    static double ddiscopop(double u, double tau) {
        double m = sigmoid(u / tau);
        double dm = m * (1 - m) / tau;
        return (1 - m) * -sigmoid(-u) - m * Math.exp(-u) + dm * (Math.exp(-u) + logSigmoid(u));
    }

    static double sigmoid(double v) {
        if (v >= 0) {
            return 1 / (1 + Math.exp(-v));
        }
        double e = Math.exp(v);
        return e / (1 + e);
    }

    static double dsigmoid(double v) {
        return sigmoid(v) * sigmoid(-v);
    }

    // log σ(v) without overflow for large |v|.
    static double logSigmoid(double v) {
        return v < 0 ? v - Math.log1p(Math.exp(v)) : -Math.log1p(Math.exp(-v));
    }

    private static double sq(double v) {
        return v * v;
    }

    private static double weightedSum(double[] v, double[] w) {
        double s = 0;
        for (int i = 0; i < v.length; i++) {
            s += w[i] * v[i];
        }
        return s;
    }

    private static double sumTokens(int[] v) {
        long s = 0;
        for (int x : v) {
            s += x;
        }
        return s;
    }
}
