package org.pairwise.model.lora;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.pairwise.accel.Backend;
import org.pairwise.accel.DTypes;
import org.pairwise.accel.Tensor;
import org.pairwise.accel.Weight;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.load.Safetensors;
import org.pairwise.model.load.TensorData;

/**
 * LoRA matrices on a backend, one (A [r, in], B [out, r]) pair per adapted projection and layer, in F32 tensors (so
 * a trainer can update them in place); the adapted projection computes W x + scaling * B (A x).
 */
public final class LoraAdapter {
    /** One adapted projection: the trainable tensors and weight views of them for the matmul kernels. */
    public record Pair(Tensor a, Tensor b, Weight aWeight, Weight bWeight, int in, int out) {}

    private final LoraConfig config;
    private final Map<String, Pair> pairs;

    private LoraAdapter(LoraConfig config, Map<String, Pair> pairs) {
        this.config = config;
        this.pairs = pairs;
    }

    public LoraConfig config() {
        return config;
    }

    public float scaling() {
        return (float) config.scaling();
    }

    /** The pair of layer i's projection, or null when that projection is not adapted. */
    public Pair pair(int layer, String projection) {
        return pairs.get(layer + "." + projection);
    }

    public int rank() {
        return config.r();
    }

    /** Reads a PEFT adapter directory (adapter_config.json + adapter_model.safetensors) for this model. */
    public static LoraAdapter load(Path dir, ModelConfig model, Backend be) throws IOException {
        Path cfg = dir.resolve("adapter_config.json");
        Path weights = dir.resolve("adapter_model.safetensors");
        if (!Files.isRegularFile(cfg) || !Files.isRegularFile(weights)) {
            throw new IOException(dir + " is not a PEFT adapter (needs adapter_config.json and adapter_model.safetensors)");
        }
        LoraConfig config = LoraConfig.parse(Files.readString(cfg));
        try (Arena arena = Arena.ofConfined()) {
            Map<String, TensorData> tensors = Safetensors.read(weights, arena);
            Map<String, Pair> pairs = new HashMap<>();
            for (int l = 0; l < model.numLayers(); l++) {
                for (String p : config.targetModules()) {
                    int[] io = dims(model, p);
                    TensorData a = require(tensors, LoraConfig.key(l, p, "A"), config.r(), io[0], dir);
                    TensorData b = require(tensors, LoraConfig.key(l, p, "B"), io[1], config.r(), dir);
                    pairs.put(l + "." + p, upload(be, a, b, io[0], io[1], config.r()));
                }
            }
            return new LoraAdapter(config, pairs);
        }
    }

    /** [in, out] features of a projection. */
    public static int[] dims(ModelConfig c, String projection) {
        int C = c.hiddenSize();
        return switch (projection) {
            case "q_proj" -> new int[] {C, c.qDim()};
            case "k_proj", "v_proj" -> new int[] {C, c.kvDim()};
            case "o_proj" -> new int[] {c.qDim(), C};
            case "gate_proj", "up_proj" -> new int[] {C, c.intermediateSize()};
            case "down_proj" -> new int[] {c.intermediateSize(), C};
            default -> throw new IllegalArgumentException("unknown projection " + projection);
        };
    }

    private static Pair upload(Backend be, TensorData a, TensorData b, int in, int out, int r) {
        Tensor ta = be.upload(DTypes.toFloats(a.data(), a.dtype(), r * in));
        Tensor tb = be.upload(DTypes.toFloats(b.data(), b.dtype(), out * r));
        return new Pair(ta, tb, be.weightOf(ta, r, in), be.weightOf(tb, out, r), in, out);
    }

    private static TensorData require(Map<String, TensorData> t, String key, int rows, int cols, Path dir) {
        TensorData d = t.get(key);
        if (d == null) {
            throw new IllegalArgumentException(dir + ": adapter tensor " + key + " is missing");
        }
        if (d.rows() != rows || d.cols() != cols || d.shape().length != 2) {
            throw new IllegalArgumentException(dir + ": adapter tensor " + d + " should be [" + rows + ", " + cols
                    + "]; was it trained for another base model?");
        }
        return d;
    }
}
