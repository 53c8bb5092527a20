package org.pairwise.model.engine;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.DoubleSupplier;
import org.pairwise.accel.DTypes;
import org.pairwise.accel.RopeTable;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.model.load.TensorData;

/**
 * An independent, plain double-precision Llama forward over one sequence, written from the HF modeling code's
 * equations (no KV cache, no kernels, no batching): the yardstick the engine is tested against.
 */
public final class ReferenceDecoder {
    private final Checkpoint ck;
    private final ModelConfig c;

    // Optional LoRA: PEFT key -> values, applied as W x + scaling * B (A x); tests perturb these arrays in place.
    private final Map<String, double[]> lora;
    private final double loraScaling;
    private final int loraRank;

    public ReferenceDecoder(Checkpoint ck) {
        this(ck, Map.of(), 0, 0);
    }

    public ReferenceDecoder(Checkpoint ck, Map<String, double[]> lora, double loraScaling, int loraRank) {
        this.ck = ck;
        this.c = ck.config();
        this.lora = lora;
        this.loraScaling = loraScaling;
        this.loraRank = loraRank;
    }

    /** logits (T, V) for the token sequence. */
    public double[][] logits(int[] tokens) {
        int T = tokens.length, C = c.hiddenSize(), HS = c.headDim(), NH = c.numHeads(), KV = c.numKvHeads();
        double[][] x = new double[T][];
        for (int t = 0; t < T; t++) {
            x[t] = row(m("model.embed_tokens.weight"), tokens[t]);
        }
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            double[][] q = new double[T][], k = new double[T][], v = new double[T][];
            for (int t = 0; t < T; t++) {
                double[] h = rmsnorm(x[t], vec(p + "input_layernorm.weight"));
                q[t] = linear(h, p + "self_attn.q_proj");
                k[t] = linear(h, p + "self_attn.k_proj");
                v[t] = linear(h, p + "self_attn.v_proj");
                rope(q[t], NH, t);
                rope(k[t], KV, t);
            }
            for (int t = 0; t < T; t++) {
                double[] att = new double[NH * HS];
                for (int h = 0; h < NH; h++) {
                    int kh = h / (NH / KV);
                    double[] s = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int u = 0; u <= t; u++) {
                        double d = 0;
                        for (int i = 0; i < HS; i++) {
                            d += q[t][h * HS + i] * k[u][kh * HS + i];
                        }
                        s[u] = d / Math.sqrt(HS);
                        max = Math.max(max, s[u]);
                    }
                    double z = 0;
                    for (int u = 0; u <= t; u++) {
                        s[u] = Math.exp(s[u] - max);
                        z += s[u];
                    }
                    for (int u = 0; u <= t; u++) {
                        for (int i = 0; i < HS; i++) {
                            att[h * HS + i] += s[u] / z * v[u][kh * HS + i];
                        }
                    }
                }
                add(x[t], linear(att, p + "self_attn.o_proj"));
            }
            for (int t = 0; t < T; t++) {
                double[] h = rmsnorm(x[t], vec(p + "post_attention_layernorm.weight"));
                double[] g = linear(h, p + "mlp.gate_proj");
                double[] u = linear(h, p + "mlp.up_proj");
                for (int i = 0; i < g.length; i++) {
                    g[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
                }
                add(x[t], linear(g, p + "mlp.down_proj"));
            }
        }
        TensorData head = ck.tensors().containsKey("lm_head.weight") ? m("lm_head.weight") : m("model.embed_tokens.weight");
        double[][] out = new double[T][];
        for (int t = 0; t < T; t++) {
            double[] h = rmsnorm(x[t], vec("model.norm.weight"));
            out[t] = new double[c.vocabSize()];
            for (int o = 0; o < c.vocabSize(); o++) {
                out[t][o] = dot(h, head, o);
            }
        }
        return out;
    }

    /** Sum of log p(completion token | everything before it), the prompt's own positions not scored (TRL's). */
    public double completionLogp(int[] prompt, int[] completion) {
        int[] ids = new int[prompt.length + completion.length];
        System.arraycopy(prompt, 0, ids, 0, prompt.length);
        System.arraycopy(completion, 0, ids, prompt.length, completion.length);
        double[][] logits = logits(ids);
        double s = 0;
        for (int t = prompt.length - 1; t + 1 < ids.length; t++) {
            s += logSoftmax(logits[t], ids[t + 1]);
        }
        return s;
    }

    /** A double copy of adapter tensors (PEFT key to values), for a decoder whose LoRA a gradient check perturbs. */
    public static Map<String, double[]> widen(Map<String, float[]> lora) {
        Map<String, double[]> out = new LinkedHashMap<>();
        lora.forEach((k, v) -> {
            double[] d = new double[v.length];
            for (int i = 0; i < v.length; i++) {
                d[i] = v[i];
            }
            out.put(k, d);
        });
        return out;
    }

    /** d f / d x[i] by central differences with step h; x[i] is left as it was. */
    public static double centralDifference(double[] x, int i, double h, DoubleSupplier f) {
        double keep = x[i];
        x[i] = keep + h;
        double up = f.getAsDouble();
        x[i] = keep - h;
        double down = f.getAsDouble();
        x[i] = keep;
        return (up - down) / (2 * h);
    }

    public static double logSoftmax(double[] logits, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : logits) {
            max = Math.max(max, v);
        }
        double z = 0;
        for (double v : logits) {
            z += Math.exp(v - max);
        }
        return logits[target] - max - Math.log(z);
    }

    private void rope(double[] x, int heads, int pos) {
        int HS = c.headDim(), half = HS / 2;
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                double freq = 1.0 / Math.pow(c.ropeTheta(), 2.0 * i / HS);
                double cos = Math.cos(pos * freq), sin = Math.sin(pos * freq);
                int a, b;
                if (c.ropePairing() == RopeTable.Pairing.ADJACENT) {
                    a = h * HS + 2 * i;
                    b = a + 1;
                } else {
                    a = h * HS + i;
                    b = a + half;
                }
                double xa = x[a], xb = x[b];
                x[a] = xa * cos - xb * sin;
                x[b] = xa * sin + xb * cos;
            }
        }
    }

    private double[] rmsnorm(double[] x, double[] w) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double r = 1 / Math.sqrt(ss / x.length + c.rmsNormEps());
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * r * w[i];
        }
        return out;
    }

    private double[] linear(double[] x, String prefix) {
        TensorData w = m(prefix + ".weight");
        double[] out = new double[w.rows()];
        double[] bias = ck.tensors().containsKey(prefix + ".bias") ? vec(prefix + ".bias") : null;
        for (int o = 0; o < out.length; o++) {
            out[o] = dot(x, w, o) + (bias == null ? 0 : bias[o]);
        }
        String key = "base_model.model." + prefix + ".lora_";
        double[] a = lora.get(key + "A.weight"), b = lora.get(key + "B.weight");
        if (a != null) {
            int in = x.length, r = loraRank;
            double[] u = new double[r];
            for (int k = 0; k < r; k++) {
                for (int i = 0; i < in; i++) {
                    u[k] += a[k * in + i] * x[i];
                }
            }
            for (int o = 0; o < out.length; o++) {
                double s = 0;
                for (int k = 0; k < r; k++) {
                    s += b[o * r + k] * u[k];
                }
                out[o] += loraScaling * s;
            }
        }
        return out;
    }

    private static double dot(double[] x, TensorData w, int row) {
        double s = 0;
        long base = (long) row * w.cols();
        for (int i = 0; i < x.length; i++) {
            s += x[i] * DTypes.get(w.data(), w.dtype(), base + i);
        }
        return s;
    }

    private static double[] row(TensorData w, int r) {
        double[] out = new double[w.cols()];
        for (int i = 0; i < out.length; i++) {
            out[i] = DTypes.get(w.data(), w.dtype(), (long) r * w.cols() + i);
        }
        return out;
    }

    private double[] vec(String name) {
        TensorData t = m(name);
        double[] out = new double[Math.toIntExact(t.numel())];
        for (int i = 0; i < out.length; i++) {
            out[i] = DTypes.get(t.data(), t.dtype(), i);
        }
        return out;
    }

    private TensorData m(String name) {
        return ck.tensor(name);
    }

    private static void add(double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) {
            x[i] += y[i];
        }
    }
}
