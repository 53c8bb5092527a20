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
 * Gradient buffers shaped like an adapter's matrices, keyed like its pairs: one flat buffer laid out as the adapter's
 * parameter buffer, each dA, dB a view of it. Backward passes accumulate into them (so gradient accumulation is free);
 * {@link #zero} clears the whole buffer in one call after each optimizer step.
 */
public final class LoraGradients {
    /** dA (r, in) and dB (out, r) of one adapted projection. */
    public record Pair(Tensor dA, Tensor dB) {}

    private final Map<String, Pair> pairs = new LinkedHashMap<>();
    private final Tensor buffer;
    private final Backend be;

    public LoraGradients(LoraAdapter adapter, ModelConfig model, Backend be) {
        this.be = be;
        this.buffer = be.allocate(adapter.parameterBuffer().size());
        long off = 0;
        for (int l = 0; l < model.numLayers(); l++) {
            for (String p : adapter.config().targetModules()) {
                LoraAdapter.Pair ab = adapter.pair(l, p);
                Tensor dA = be.view(buffer, off, ab.a().size()), dB = be.view(buffer, off + dA.size(), ab.b().size());
                off += dA.size() + dB.size();
                pairs.put(l + "." + p, new Pair(dA, dB));
            }
        }
    }

    public Pair pair(int layer, String projection) {
        return pairs.get(layer + "." + projection);
    }

    /** Every gradient in one flat buffer, laid out as {@link LoraAdapter#parameterBuffer()}. */
    public Tensor buffer() {
        return buffer;
    }

    /** Every gradient tensor (a view of {@link #buffer()}), in the adapter's parameter order (layer, projection, A then B). */
    public List<Tensor> tensors() {
        List<Tensor> out = new ArrayList<>();
        for (Pair p : pairs.values()) {
            out.add(p.dA());
            out.add(p.dB());
        }
        return Collections.unmodifiableList(out);
    }

    public void zero() {
        be.zero(buffer);
    }
}
