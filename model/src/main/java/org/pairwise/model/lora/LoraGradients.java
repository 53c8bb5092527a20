package org.pairwise.model.lora;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.pairwise.accel.Backend;
import org.pairwise.accel.Tensor;
import org.pairwise.model.ModelConfig;

/**
 * Gradient buffers shaped like an adapter's matrices, keyed like its pairs. Backward passes accumulate into them
 * (so gradient accumulation is free); {@link #zero} clears them after each optimizer step.
 */
public final class LoraGradients {
    /** dA (r, in) and dB (out, r) of one adapted projection. */
    public record Pair(Tensor dA, Tensor dB) {}

    private final Map<String, Pair> pairs = new LinkedHashMap<>();
    private final Backend be;

    public LoraGradients(LoraAdapter adapter, ModelConfig model, Backend be) {
        this.be = be;
        int r = adapter.rank();
        for (int l = 0; l < model.numLayers(); l++) {
            for (String p : adapter.config().targetModules()) {
                LoraAdapter.Pair ab = adapter.pair(l, p);
                pairs.put(l + "." + p, new Pair(be.allocate((long) r * ab.in()), be.allocate((long) ab.out() * r)));
            }
        }
    }

    public Pair pair(int layer, String projection) {
        return pairs.get(layer + "." + projection);
    }

    /** Every gradient tensor, in the adapter's parameter order (layer, projection, A then B). */
    public List<Tensor> tensors() {
        List<Tensor> out = new ArrayList<>();
        for (Pair p : pairs.values()) {
            out.add(p.dA());
            out.add(p.dB());
        }
        return Collections.unmodifiableList(out);
    }

    public void zero() {
        for (Pair p : pairs.values()) {
            be.zero(p.dA());
            be.zero(p.dB());
        }
    }
}
