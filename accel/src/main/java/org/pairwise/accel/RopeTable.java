package org.pairwise.accel;

/**
 * Precomputed rotary tables: cos/sin (maxPos, rotaryDim/2). Pair i of a head rotates the dimensions
 * (2i, 2i+1) under {@link Pairing#ADJACENT} (GGUF llama, llama2.c) or (i, i + rotaryDim/2) under
 * {@link Pairing#HALVES} (HF's rotate_half); its frequency is theta^(-2i/rotaryDim) either way.
 */
public record RopeTable(Pairing pairing, int rotaryDim, int maxPos, float[] cos, float[] sin) {
    public enum Pairing { ADJACENT, HALVES }

    /** Llama 3.x "llama3" rope_scaling; null where the model has none. */
    public record Llama3Scaling(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPos) {}

    public static RopeTable create(Pairing pairing, int rotaryDim, int maxPos, double theta, Llama3Scaling scaling) {
        int half = rotaryDim / 2;
        double[] invFreq = new double[half];
        for (int i = 0; i < half; i++) {
            double f = 1.0 / Math.pow(theta, (2.0 * i) / rotaryDim);
            invFreq[i] = scaling == null ? f : llama3(f, scaling);
        }
        float[] cos = new float[maxPos * half];
        float[] sin = new float[maxPos * half];
        for (int p = 0; p < maxPos; p++) {
            for (int i = 0; i < half; i++) {
                double a = p * invFreq[i];
                cos[p * half + i] = (float) Math.cos(a);
                sin[p * half + i] = (float) Math.sin(a);
            }
        }
        return new RopeTable(pairing, rotaryDim, maxPos, cos, sin);
    }

    // As transformers' _compute_llama3_parameters: long wavelengths are slowed by `factor`, short ones kept,
    // and the band between is interpolated smoothly.
    private static double llama3(double invFreq, Llama3Scaling s) {
        double lowFreqWavelen = s.originalMaxPos() / s.lowFreqFactor();
        double highFreqWavelen = s.originalMaxPos() / s.highFreqFactor();
        double wavelen = 2 * Math.PI / invFreq;
        if (wavelen < highFreqWavelen) {
            return invFreq;
        }
        if (wavelen > lowFreqWavelen) {
            return invFreq / s.factor();
        }
        double smooth = (s.originalMaxPos() / wavelen - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
        return (1 - smooth) * invFreq / s.factor() + smooth * invFreq;
    }
}
