package org.pairwise.model.lora;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.pairwise.accel.Backend;
import org.pairwise.accel.DType;
import org.pairwise.accel.DTypes;
import org.pairwise.accel.Tensor;
import org.pairwise.accel.TensorView;
import org.pairwise.accel.Weight;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.load.Safetensors;
import org.pairwise.model.load.SafetensorsWriter;
import org.pairwise.model.load.TensorData;
import org.pairwise.model.load.Tensors;

/**
 * LoRA matrices on a backend, one (A [r, in], B [out, r]) pair per adapted projection and layer, all in ONE flat F32
 * buffer (llm.c's params_memory: a trainer updates it in place with one call) that each matrix is a view of; the
 * adapted projection computes W x + scaling * B (A x). Layout: layer, projection as configured, A then B.
 */
public final class LoraAdapter {
    /** One adapted projection: the trainable tensors (views of the buffer) and weight views of them for the kernels. */
    public record Pair(Tensor a, Tensor b, Weight aWeight, Weight bWeight, int in, int out) {}

    private final LoraConfig config;
    private final Tensor buffer;
    /** "layer.projection" to its pair, in parameter order. */
    private final Map<String, Pair> pairs = new LinkedHashMap<>();

    /** An adapter over buffer, laid out by io ("layer.projection" to {in, out}, in parameter order). */
    private LoraAdapter(LoraConfig config, Map<String, int[]> io, Tensor buffer, Backend be) {
        this.config = config;
        this.buffer = buffer;
        int r = config.r();
        long off = 0;
        for (Map.Entry<String, int[]> e : io.entrySet()) {
            int in = e.getValue()[0], out = e.getValue()[1];
            Tensor a = be.view(buffer, off, (long) r * in), b = be.view(buffer, off + a.size(), (long) out * r);
            off += a.size() + b.size();
            pairs.put(e.getKey(), new Pair(a, b, be.weightOf(a, r, in), be.weightOf(b, out, r), in, out));
        }
        if (off != buffer.size()) {
            throw new IllegalArgumentException("an adapter of " + off + " floats over a buffer of " + buffer.size());
        }
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
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, int[]> io = layout(config, model);
        float[] host = new float[Math.toIntExact(floats(config, io))];
        int off = 0;
        for (int[] d : io.values()) {
            double bound = 1 / Math.sqrt(d[0]);
            for (int i = 0; i < config.r() * d[0]; i++) {
                host[off + i] = (float) rng.nextDouble(-bound, bound);
            }
            off += config.r() * (d[0] + d[1]);
        }
        return new LoraAdapter(config, io, be.upload(host), be);
    }

    /**
     * An independent copy on the same backend (one buffer copy): the frozen reference when training continues from an
     * adapter, or an immutable snapshot to publish as a policy version while training goes on.
     */
    public LoraAdapter copy(Backend be) {
        Tensor to = be.allocate(buffer.size());
        be.copy(to, 0, buffer, 0, buffer.size());
        Map<String, int[]> io = new LinkedHashMap<>();
        pairs.forEach((k, p) -> io.put(k, new int[] {p.in(), p.out()}));
        return new LoraAdapter(config, io, to, be);
    }

    /** Every parameter in one flat buffer, in {@link #parameters()} order; gradients and moments share the layout. */
    public Tensor parameterBuffer() {
        return buffer;
    }

    /** Every trainable tensor (a view of {@link #parameterBuffer()}) in order: layer, projection, A then B. */
    public List<Tensor> parameters() {
        return List.copyOf(namedParameters().values());
    }

    /** PEFT key -> tensor, in {@link #parameters()} order. */
    public Map<String, Tensor> namedParameters() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        pairs.forEach((k, p) -> {
            out.put(peftKey(k, "A"), p.a());
            out.put(peftKey(k, "B"), p.b());
        });
        return out;
    }

    /** Writes adapter_config.json and adapter_model.safetensors (F32) as PEFT's save_pretrained does. */
    public void save(Path dir, Backend be) throws IOException {
        Files.createDirectories(dir);
        float[] host = be.download(buffer);
        List<TensorData> tensors = new ArrayList<>();
        int r = config.r();
        pairs.forEach((k, p) -> {
            int a = Math.toIntExact(TensorView.offsetOf(p.a())), b = Math.toIntExact(TensorView.offsetOf(p.b()));
            tensors.add(Tensors.of(peftKey(k, "A"), DType.F32, new long[] {r, p.in()},
                    Arrays.copyOfRange(host, a, a + r * p.in())));
            tensors.add(Tensors.of(peftKey(k, "B"), DType.F32, new long[] {p.out(), r},
                    Arrays.copyOfRange(host, b, b + p.out() * r)));
        });
        SafetensorsWriter.write(dir.resolve("adapter_model.safetensors"), tensors, Map.of("format", "pt"));
        Path cfg = dir.resolve("adapter_config.json");
        Path tmp = dir.resolve("adapter_config.json.tmp");
        Files.writeString(tmp, config.toJson());
        Files.move(tmp, cfg, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Reads a PEFT adapter directory (adapter_config.json + adapter_model.safetensors) for this model. */
    public static LoraAdapter load(Path dir, ModelConfig model, Backend be) throws IOException {
        Path cfg = dir.resolve("adapter_config.json");
        Path weights = dir.resolve("adapter_model.safetensors");
        if (!Files.isRegularFile(cfg) || !Files.isRegularFile(weights)) {
            throw new IOException(dir + " is not a PEFT adapter (needs adapter_config.json and adapter_model.safetensors)");
        }
        LoraConfig config = LoraConfig.parse(Files.readString(cfg));
        Map<String, int[]> io = layout(config, model);
        int r = config.r();
        float[] host = new float[Math.toIntExact(floats(config, io))];
        try (Arena arena = Arena.ofConfined()) {
            Map<String, TensorData> tensors = Safetensors.read(weights, arena);
            int off = 0;
            for (Map.Entry<String, int[]> e : io.entrySet()) {
                int in = e.getValue()[0], out = e.getValue()[1];
                TensorData a = require(tensors, peftKey(e.getKey(), "A"), r, in, dir);
                TensorData b = require(tensors, peftKey(e.getKey(), "B"), out, r, dir);
                System.arraycopy(DTypes.toFloats(a.data(), a.dtype(), r * in), 0, host, off, r * in);
                System.arraycopy(DTypes.toFloats(b.data(), b.dtype(), out * r), 0, host, off + r * in, out * r);
                off += r * (in + out);
            }
        }
        return new LoraAdapter(config, io, be.upload(host), be);
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

    /** "layer.projection" to {in, out} for every adapted projection, in parameter order. */
    private static Map<String, int[]> layout(LoraConfig config, ModelConfig model) {
        Map<String, int[]> io = new LinkedHashMap<>();
        for (int l = 0; l < model.numLayers(); l++) {
            for (String p : config.targetModules()) {
                io.put(l + "." + p, dims(model, p));
            }
        }
        return io;
    }

    private static long floats(LoraConfig config, Map<String, int[]> io) {
        long n = 0;
        for (int[] d : io.values()) {
            n += (long) config.r() * (d[0] + d[1]);
        }
        return n;
    }

    /** PEFT's key of matrix "A" or "B" of the pair named "layer.projection". */
    private static String peftKey(String pair, String matrix) {
        int dot = pair.indexOf('.');
        return LoraConfig.key(Integer.parseInt(pair.substring(0, dot)), pair.substring(dot + 1), matrix);
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
