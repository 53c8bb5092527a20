package org.pairwise.model.load;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import org.pairwise.accel.DType;
import org.pairwise.accel.RopeTable;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.tokenizer.TokenizerJsonBuilder;

/**
 * A llama.c legacy (version 0) checkpoint: seven int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size,
 * seq_len; a negative vocab_size means a separate classifier follows), then F32 arrays stacked over layers in the
 * order emb, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final, freq_cis_real, freq_cis_imag [, wcls].
 * Tensors are slices of the mapped file. llama2.c rotates adjacent pairs, like GGUF llama files.
 */
public final class Llama2c {
    private static final int HEADER_BYTES = 7 * 4;
    private static final int MAGIC_V1 = 0x616b3432; // "ak42": llama2.c's later export versions

    private Llama2c() {}

    /**
     * @param tokenizerBin llama2.c tokenizer file, or null to use {@code tok<vocab>.bin} or else {@code tokenizer.bin}
     *                     next to the checkpoint
     */
    public static Checkpoint load(Path file, Path tokenizerBin, String source) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            ModelConfig config = config(seg, source);
            Map<String, TensorData> tensors = tensors(seg, config, source);
            Path tok = tokenizerBin != null ? tokenizerBin : findTokenizer(file, config.vocabSize());
            String tokenizerJson = TokenizerJsonBuilder.llama2c(tok, config.vocabSize());
            return new Checkpoint(source, "llama2c", config, tensors, tokenizerJson, null, arena);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    static Path findTokenizer(Path model, int vocab) throws IOException {
        Path dir = model.toAbsolutePath().getParent();
        for (String name : new String[] {"tok" + vocab + ".bin", "tokenizer.bin"}) {
            if (Files.isRegularFile(dir.resolve(name))) {
                return dir.resolve(name);
            }
        }
        throw new IOException(model + ": no llama2.c tokenizer (tok" + vocab + ".bin or tokenizer.bin) beside it;"
                + " name one explicitly");
    }

    private static ModelConfig config(MemorySegment seg, String source) {
        if (seg.byteSize() < HEADER_BYTES) {
            throw new IllegalArgumentException(source + ": too short for a llama2.c checkpoint");
        }
        int[] h = new int[7];
        for (int i = 0; i < 7; i++) {
            h[i] = seg.get(Tensors.I32, 4L * i);
        }
        if (h[0] == MAGIC_V1) {
            throw new IllegalArgumentException(source + ": llama2.c export version 1/2 files are not supported;"
                    + " export with --version 0 (the legacy format)");
        }
        int dim = h[0];
        int heads = h[3];
        if (dim <= 0 || heads <= 0 || dim % heads != 0) {
            throw new IllegalArgumentException(source + ": not a llama2.c checkpoint (header "
                    + java.util.Arrays.toString(h) + ")");
        }
        boolean shared = h[5] > 0;
        return new ModelConfig("LlamaForCausalLM", dim, h[2], heads, h[4], dim / heads, h[1], Math.abs(h[5]), h[6],
                1e-5f, 10000.0, null, RopeTable.Pairing.ADJACENT, shared, false, 1, new int[] {2});
    }

    private static Map<String, TensorData> tensors(MemorySegment seg, ModelConfig c, String source) {
        long dim = c.hiddenSize();
        long kv = c.kvDim();
        long ff = c.intermediateSize();
        long vocab = c.vocabSize();
        long half = c.headDim() / 2;
        long expected = HEADER_BYTES + 4 * (vocab * dim
                + c.numLayers() * (2 * dim + dim * dim + 2 * kv * dim + dim * dim + 3 * ff * dim)
                + dim + 2L * c.maxPositionEmbeddings() * half
                + (c.tieWordEmbeddings() ? 0 : vocab * dim));
        if (seg.byteSize() != expected) {
            throw new IllegalArgumentException(source + ": " + seg.byteSize() + " bytes, but its header " + c.hiddenSize()
                    + "d/" + c.numLayers() + " layers/vocab " + vocab + " implies " + expected);
        }
        Slicer s = new Slicer(seg);
        Map<String, TensorData> t = new LinkedHashMap<>();
        s.put(t, "model.embed_tokens.weight", vocab, dim);
        s.stacked(t, c, "input_layernorm.weight", dim);
        s.stacked(t, c, "self_attn.q_proj.weight", dim, dim);
        s.stacked(t, c, "self_attn.k_proj.weight", kv, dim);
        s.stacked(t, c, "self_attn.v_proj.weight", kv, dim);
        s.stacked(t, c, "self_attn.o_proj.weight", dim, dim);
        s.stacked(t, c, "post_attention_layernorm.weight", dim);
        s.stacked(t, c, "mlp.gate_proj.weight", ff, dim); // w1
        s.stacked(t, c, "mlp.down_proj.weight", dim, ff); // w2
        s.stacked(t, c, "mlp.up_proj.weight", ff, dim); // w3
        s.put(t, "model.norm.weight", dim);
        // freq_cis_real/imag: RoPE tables the engine computes itself.
        s.skip(2L * c.maxPositionEmbeddings() * half);
        if (!c.tieWordEmbeddings()) {
            s.put(t, "lm_head.weight", vocab, dim);
        }
        return t;
    }

    /** Cuts consecutive F32 tensors off the mapped file. */
    private static final class Slicer {
        final MemorySegment seg;
        long pos = HEADER_BYTES;

        Slicer(MemorySegment seg) {
            this.seg = seg;
        }

        void put(Map<String, TensorData> t, String name, long... shape) {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            t.put(name, new TensorData(name, DType.F32, shape, seg.asSlice(pos, 4 * n)));
            pos += 4 * n;
        }

        void stacked(Map<String, TensorData> t, ModelConfig c, String suffix, long... shape) {
            for (int i = 0; i < c.numLayers(); i++) {
                put(t, TensorLayout.layer(i, suffix), shape);
            }
        }

        void skip(long floats) {
            pos += 4 * floats;
        }
    }
}
