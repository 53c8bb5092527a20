package org.pairwise.model.sample;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Picks the next token from one row of logits: greedy, or temperature with top-k then top-p (HF's order). */
public final class Sampler {
    private final SamplingParams params;
    private final SplittableRandom random;

    public Sampler(SamplingParams params) {
        this.params = params;
        this.random = new SplittableRandom(params.seed());
    }

    /** The chosen token of logits[off .. off+V). */
    public int sample(float[] logits, int off, int V) {
        if (params.isGreedy()) {
            return argmax(logits, off, V);
        }
        Integer[] order = null;
        int kept = V;
        double[] p = new double[V];
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < V; i++) {
            p[i] = logits[off + i] / params.temperature();
            max = Math.max(max, p[i]);
        }
        if (params.topK() > 0 && params.topK() < V || params.topP() < 1) {
            order = new Integer[V];
            for (int i = 0; i < V; i++) {
                order[i] = i;
            }
            double[] scaled = p;
            Arrays.sort(order, (x, y) -> Double.compare(scaled[y], scaled[x]));
            if (params.topK() > 0) {
                kept = Math.min(kept, params.topK());
            }
        }
        double sum = 0;
        for (int i = 0; i < V; i++) {
            p[i] = Math.exp(p[i] - max);
        }
        if (order == null) {
            for (double v : p) {
                sum += v;
            }
            return draw(p, null, V, sum);
        }
        for (int r = 0; r < kept; r++) {
            sum += p[order[r]];
        }
        if (params.topP() < 1) {
            // Keep the smallest prefix whose mass reaches top_p (always at least one token).
            double cumulative = 0;
            int cut = 0;
            while (cut < kept) {
                cumulative += p[order[cut]] / sum;
                cut++;
                if (cumulative >= params.topP()) {
                    break;
                }
            }
            kept = cut;
            sum = 0;
            for (int r = 0; r < kept; r++) {
                sum += p[order[r]];
            }
        }
        return draw(p, order, kept, sum);
    }

    private int draw(double[] p, Integer[] order, int kept, double sum) {
        double u = random.nextDouble() * sum;
        for (int r = 0; r < kept; r++) {
            int token = order == null ? r : order[r];
            u -= p[token];
            if (u <= 0) {
                return token;
            }
        }
        return order == null ? kept - 1 : order[kept - 1];
    }

    public static int argmax(float[] logits, int off, int V) {
        int best = 0;
        for (int i = 1; i < V; i++) {
            if (logits[off + i] > logits[off + best]) {
                best = i;
            }
        }
        return best;
    }

    /** log softmax(logits[off..off+V))[token], in double. */
    public static double logprob(float[] logits, int off, int V, int token) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < V; i++) {
            max = Math.max(max, logits[off + i]);
        }
        double sum = 0;
        for (int i = 0; i < V; i++) {
            sum += Math.exp(logits[off + i] - max);
        }
        return logits[off + token] - max - Math.log(sum);
    }
}
