package org.pairwise.model.lora;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
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

    /**
     * A fresh adapter as PEFT initialises one: A Kaiming-uniform (a = sqrt(5), so U(-1/sqrt(in), 1/sqrt(in))) and B
     * zeros, so the adapted model starts exactly at the base model.
     */
    public static LoraAdapter create(LoraConfig config, ModelConfig model, Backend be, long seed) {
        java.util.SplittableRandom rng = new java.util.SplittableRandom(seed);
        Map<String, Pair> pairs = new java.util.LinkedHashMap<>();
        int r = config.r();
        for (int l = 0; l < model.numLayers(); l++) {
            for (String p : config.targetModules()) {
                int[] io = dims(model, p);
                float[] a = new float[r * io[0]];
                double bound = 1 / Math.sqrt(io[0]);
                for (int i = 0; i < a.length; i++) {
                    a[i] = (float) rng.nextDouble(-bound, bound);
                }
                Tensor ta = be.upload(a);
                Tensor tb = be.allocate((long) io[1] * r);
                pairs.put(l + "." + p, new Pair(ta, tb, be.weightOf(ta, r, io[0]), be.weightOf(tb, io[1], r), io[0], io[1]));
            }
        }
        return new LoraAdapter(config, pairs);
    }

    /**
     * An independent copy on the same backend: the frozen reference when training continues from an adapter, or an
     * immutable snapshot to publish as a policy version while training goes on.
     */
    public LoraAdapter copy(Backend be) {
        Map<String, Pair> out = new java.util.LinkedHashMap<>();
        pairs.forEach((k, p) -> {
            Tensor a = be.allocate(p.a().size()), b = be.allocate(p.b().size());
            be.copy(a, 0, p.a(), 0, p.a().size());
            be.copy(b, 0, p.b(), 0, p.b().size());
            out.put(k, new Pair(a, b, be.weightOf(a, config.r(), p.in()), be.weightOf(b, p.out(), config.r()), p.in(),
                    p.out()));
        });
        return new LoraAdapter(config, out);
    }

    /** Every trainable tensor in a fixed order (layer, projection as configured, A then B); gradients follow it. */
    public java.util.List<Tensor> parameters() {
        java.util.List<Tensor> out = new java.util.ArrayList<>();
        for (Pair p : orderedPairs().values()) {
            out.add(p.a());
            out.add(p.b());
        }
        return out;
    }

    /** PEFT key -> tensor, in {@link #parameters()} order. */
    public Map<String, Tensor> namedParameters() {
        Map<String, Tensor> out = new java.util.LinkedHashMap<>();
        orderedPairs().forEach((k, p) -> {
            int dot = k.indexOf('.');
            int layer = Integer.parseInt(k.substring(0, dot));
            String proj = k.substring(dot + 1);
            out.put(LoraConfig.key(layer, proj, "A"), p.a());
            out.put(LoraConfig.key(layer, proj, "B"), p.b());
        });
        return out;
    }

    private Map<String, Pair> orderedPairs() {
        Map<String, Pair> out = new java.util.LinkedHashMap<>();
        int layers = pairs.size() / config.targetModules().size();
        for (int l = 0; l < layers; l++) {
            for (String p : config.targetModules()) {
                out.put(l + "." + p, pairs.get(l + "." + p));
            }
        }
        return out;
    }

    /** Writes adapter_config.json and adapter_model.safetensors (F32) as PEFT's save_pretrained does. */
    public void save(Path dir, Backend be) throws IOException {
        Files.createDirectories(dir);
        java.util.List<TensorData> tensors = new java.util.ArrayList<>();
        orderedPairs().forEach((k, p) -> {
            int dot = k.indexOf('.');
            int layer = Integer.parseInt(k.substring(0, dot));
            String proj = k.substring(dot + 1);
            tensors.add(org.pairwise.model.load.Tensors.of(LoraConfig.key(layer, proj, "A"),
                    org.pairwise.accel.DType.F32, new long[] {config.r(), p.in()}, be.download(p.a())));
            tensors.add(org.pairwise.model.load.Tensors.of(LoraConfig.key(layer, proj, "B"),
                    org.pairwise.accel.DType.F32, new long[] {p.out(), config.r()}, be.download(p.b())));
        });
        org.pairwise.model.load.SafetensorsWriter.write(dir.resolve("adapter_model.safetensors"), tensors,
                Map.of("format", "pt"));
        Path cfg = dir.resolve("adapter_config.json");
        Path tmp = dir.resolve("adapter_config.json.tmp");
        Files.writeString(tmp, config.toJson());
        Files.move(tmp, cfg, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
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
            Map<String, Pair> pairs = new java.util.LinkedHashMap<>();
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
