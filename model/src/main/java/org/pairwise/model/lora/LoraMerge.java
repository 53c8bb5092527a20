package org.pairwise.model.lora;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.pairwise.accel.Backend;
import org.pairwise.accel.DType;
import org.pairwise.accel.DTypes;
import org.pairwise.accel.RopeTable;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.model.load.SafetensorsWriter;
import org.pairwise.model.load.TensorData;
import org.pairwise.model.load.TensorLayout;

/**
 * Folds a LoRA adapter into its base weights, as PEFT's {@code merge_and_unload}: W' = W + scaling * B A for every
 * adapted projection, the other tensors copied, all written as one HF {@code model.safetensors}. The result is always
 * in HF's layout: a GGUF or llama2.c base rotates adjacent RoPE pairs, so its q_proj/k_proj rows (weights and biases)
 * are moved back to HF's rotate_half order, undoing llama.cpp's converter permutation; the config for the written
 * weights must then say {@link RopeTable.Pairing#HALVES}.
 *
 * <p>Memory: one row at a time is converted. Tensors that need no change and are already in the target dtype are
 * written straight from the (memory-mapped) source; the others are computed row by row into a scratch file mapped
 * next to the output, so neither the heap nor native memory ever holds the model.
 */
public final class LoraMerge {
    private LoraMerge() {}

    /** What was written: every tensor name, and how many of them an adapter changed. */
    public record Summary(List<String> tensors, int merged, DType dtype) {}

    /**
     * Writes {@code file} (safetensors, {@code format: pt}) holding the tensors of {@link TensorLayout#expected} for
     * the base's config, merged with {@code adapter} (null: none, a pure conversion) and stored as {@code dtype}.
     *
     * @param adapter LoRA matrices for {@code base}, on {@code be} (read back once per adapted projection)
     * @param dtype   F32, BF16 or F16; values are computed in F32 with the rank-r products summed in double
     */
    public static Summary write(Checkpoint base, LoraAdapter adapter, Backend be, DType dtype, Path file)
            throws IOException {
        if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
            throw new IllegalArgumentException("a merged model is stored as F32, BF16 or F16, not " + dtype);
        }
        ModelConfig c = base.config();
        boolean adjacent = c.ropePairing() == RopeTable.Pairing.ADJACENT;
        List<Job> jobs = new ArrayList<>();
        long scratchBytes = 0;
        int merged = 0;
        for (Map.Entry<String, long[]> e : TensorLayout.expected(c).entrySet()) {
            TensorData src = base.tensor(e.getKey());
            Delta delta = delta(e.getKey(), adapter, be);
            int heads = !adjacent ? 0 : e.getKey().contains(".q_proj.") ? c.numHeads()
                    : e.getKey().contains(".k_proj.") ? c.numKvHeads() : 0;
            boolean copy = delta == null && heads == 0 && src.dtype() == dtype;
            long offset = copy ? -1 : scratchBytes;
            if (!copy) {
                scratchBytes += dtype.bytesFor(src.numel());
            }
            merged += delta == null ? 0 : 1;
            jobs.add(new Job(src, delta, heads, offset));
        }
        Path scratch = file.toAbsolutePath().resolveSibling("." + file.getFileName() + ".scratch");
        try (Arena arena = Arena.ofShared()) {
            MemorySegment out = MemorySegment.NULL;
            if (scratchBytes > 0) {
                try (FileChannel ch = FileChannel.open(scratch, StandardOpenOption.CREATE, StandardOpenOption.READ,
                        StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                    out = ch.map(FileChannel.MapMode.READ_WRITE, 0, scratchBytes, arena);
                }
            }
            List<TensorData> tensors = new ArrayList<>(jobs.size());
            for (Job j : jobs) {
                if (j.offset < 0) {
                    tensors.add(j.src);
                } else {
                    MemorySegment dst = out.asSlice(j.offset, dtype.bytesFor(j.src.numel()));
                    fill(j, c.headDim(), adapter == null ? 0 : adapter.config().scaling(), dtype, dst);
                    tensors.add(new TensorData(j.src.name(), dtype, j.src.shape(), dst));
                }
            }
            SafetensorsWriter.write(file, tensors, Map.of("format", "pt"));
            return new Summary(tensors.stream().map(TensorData::name).toList(), merged, dtype);
        } finally {
            Files.deleteIfExists(scratch);
        }
    }

    /** One output tensor: its source, the adapter's A/B where adapted, Q/K heads to un-permute (0: none). */
    private record Job(TensorData src, Delta delta, int heads, long offset) {}

    /** A (r, in) and B (out, r) of one adapted projection, on the heap. */
    private record Delta(float[] a, float[] b, int r) {}

    private static Delta delta(String name, LoraAdapter adapter, Backend be) {
        if (adapter == null || !name.endsWith(".weight") || !name.startsWith("model.layers.")) {
            return null;
        }
        String rest = name.substring("model.layers.".length());
        int dot = rest.indexOf('.');
        int layer = Integer.parseInt(rest.substring(0, dot));
        String module = rest.substring(dot + 1, rest.length() - ".weight".length());  // e.g. self_attn.q_proj
        String projection = module.substring(module.indexOf('.') + 1);
        if (!LoraConfig.ALL_TARGETS.contains(projection)) {
            return null;
        }
        LoraAdapter.Pair p = adapter.pair(layer, projection);
        return p == null ? null : new Delta(be.download(p.a()), be.download(p.b()), adapter.rank());
    }

    // src: (rows, cols) as stored; dst: (rows, cols) in dtype. Row o of dst is row from(o) of src (+ its LoRA delta).
    // A bias to un-permute is (rows, 1). Rows are independent, so they run in parallel; each thread writes only its
    // own rows of the mapped scratch.
    private static void fill(Job j, int headDim, double scaling, DType dtype, MemorySegment dst) {
        TensorData src = j.src;
        boolean vector = src.shape().length == 1;
        int rows = vector && j.heads != 0 ? src.cols() : src.rows();
        int cols = Math.toIntExact(src.numel() / rows);
        IntStream.range(0, rows).parallel().forEach(o -> {
            int from = j.heads == 0 ? o : adjacentRow(o, headDim);
            float[] row = new float[cols];
            long base = (long) from * cols;
            if (src.dtype() == DType.F32) {
                MemorySegment.copy(src.data(), DTypes.F32, base * Float.BYTES, row, 0, cols);
            } else {
                for (int i = 0; i < cols; i++) {
                    row[i] = DTypes.get(src.data(), src.dtype(), base + i);
                }
            }
            if (j.delta != null) {
                addDelta(row, j.delta, from, cols, scaling);
            }
            long at = (long) o * cols;
            for (int i = 0; i < cols; i++) {
                switch (dtype) {
                    case F32 -> dst.setAtIndex(DTypes.F32, at + i, row[i]);
                    case BF16 -> dst.setAtIndex(DTypes.I16, at + i, DTypes.floatToBf16(row[i]));
                    case F16 -> dst.setAtIndex(DTypes.I16, at + i, Float.floatToFloat16(row[i]));
                    default -> throw new IllegalStateException(dtype.name());
                }
            }
        });
    }

    // row (in) += scaling * B[o, :] (r) @ A (r, in), the rank-r sum in double; k outermost so A is read row by row.
    private static void addDelta(float[] row, Delta d, int o, int in, double scaling) {
        double[] sum = new double[in];
        for (int k = 0; k < d.r; k++) {
            double bk = d.b[o * d.r + k];
            int off = k * in;
            for (int i = 0; i < in; i++) {
                sum[i] += bk * d.a[off + i];
            }
        }
        for (int i = 0; i < in; i++) {
            row[i] = (float) (row[i] + scaling * sum[i]);
        }
    }

    /**
     * The stored (adjacent-pair) row that holds HF row {@code hfRow}: llama.cpp's converter moved, within each head of
     * {@code headDim} rows, HF row j*(headDim/2)+i (rotate_half pairs i with i + headDim/2) to row 2i+j (adjacent
     * pairs), so the inverse reads it back from there.
     */
    public static int adjacentRow(int hfRow, int headDim) {
        int head = hfRow / headDim;
        int local = hfRow % headDim;
        int half = headDim / 2;
        return head * headDim + 2 * (local % half) + local / half;
    }
}
