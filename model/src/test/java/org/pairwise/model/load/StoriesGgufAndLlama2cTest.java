package org.pairwise.model.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.accel.DType;
import org.pairwise.accel.RopeTable;
import org.pairwise.model.ModelConfig;

/** The facts SOURCE.md lists for ../shared/models/stories260K, checked against both of its formats. */
class StoriesGgufAndLlama2cTest {
    @TempDir
    Path tmp;

    private static Path gguf() {
        return TestModels.shared("stories260K/stories260K.gguf");
    }

    private static Path bin() {
        return TestModels.shared("stories260K/stories260K.bin");
    }

    @Test
    void ggufHeaderAndMetadataMatchSourceMd() throws IOException {
        try (GgufFile g = GgufFile.open(gguf())) {
            assertEquals(3, g.version());
            assertEquals(48, g.tensors().size());
            assertEquals(19, g.metadata().size());
            assertEquals(32, g.alignment());
            assertEquals(14176, g.dataOffset());
            assertEquals("llama", g.string("general.architecture"));
            assertEquals(2048, g.integer("llama.context_length"));
            assertEquals(64, g.integer("llama.embedding_length"));
            assertEquals(172, g.integer("llama.feed_forward_length"));
            assertEquals(8, g.integer("llama.attention.head_count"));
            assertEquals(4, g.integer("llama.attention.head_count_kv"));
            assertEquals(5, g.integer("llama.block_count"));
            assertEquals(8, g.integer("llama.rope.dimension_count"));
            assertEquals(1e-5f, (float) g.number("llama.attention.layer_norm_rms_epsilon", 0));
            assertEquals("llama", g.string("tokenizer.ggml.model"));
            assertEquals(512, g.strings("tokenizer.ggml.tokens").size());
            assertEquals(512, g.floats("tokenizer.ggml.scores").length);
            assertEquals(512, g.ints("tokenizer.ggml.token_type").length);
            assertEquals(1, g.integer("tokenizer.ggml.bos_token_id"));
            assertEquals(2, g.integer("tokenizer.ggml.eos_token_id"));
            assertEquals(0, g.integer("tokenizer.ggml.unknown_token_id"));
            assertEquals("▁Once", g.strings("tokenizer.ggml.tokens").get(403));
            for (TensorData t : g.tensors().values()) {
                assertEquals(DType.F32, t.dtype(), t.name());
            }
            assertArrayEquals(new long[] {512, 64}, g.tensors().get("token_embd.weight").shape());
            assertArrayEquals(new long[] {512, 64}, g.tensors().get("output.weight").shape());
            assertArrayEquals(new long[] {64}, g.tensors().get("output_norm.weight").shape());
            assertArrayEquals(new long[] {64, 64}, g.tensors().get("blk.0.attn_q.weight").shape());
            assertArrayEquals(new long[] {32, 64}, g.tensors().get("blk.4.attn_k.weight").shape());
            assertArrayEquals(new long[] {172, 64}, g.tensors().get("blk.2.ffn_gate.weight").shape());
            assertArrayEquals(new long[] {64, 172}, g.tensors().get("blk.2.ffn_down.weight").shape());
            assertTrue(g.tensors().get("blk.0.attn_q.weight").data().isMapped());
        }
    }

    @Test
    void ggufCheckpointHasTheStoriesConfig() throws IOException {
        try (Checkpoint c = GgufModel.load(gguf(), "stories")) {
            ModelConfig m = c.config();
            assertEquals("gguf", c.format());
            assertEquals(new ModelConfig("LlamaForCausalLM", 64, 5, 8, 4, 8, 172, 512, 2048, 1e-5f, 10000.0, null,
                    RopeTable.Pairing.ADJACENT, false, false, 1, new int[] {2}).toString().replaceAll("\\[I@\\w+", ""),
                    m.toString().replaceAll("\\[I@\\w+", ""));
            assertArrayEquals(new int[] {2}, m.eosTokenIds());
            assertEquals(TensorLayout.expected(m).keySet(), c.tensors().keySet());
            JsonNode tc = new ObjectMapper().readTree(c.tokenizerConfigJson());
            assertEquals("<s>", tc.get("bos_token").asText());
            assertEquals("</s>", tc.get("eos_token").asText());
            JsonNode tok = new ObjectMapper().readTree(c.tokenizerJson());
            assertEquals(403, tok.path("model").path("vocab").path("▁Once").asInt());
        }
    }

    @Test
    void ggufAndLlama2cTensorsAreBitIdentical() throws IOException {
        try (Checkpoint g = GgufModel.load(gguf(), "gguf"); Checkpoint b = Llama2c.load(bin(), null, "bin")) {
            assertEquals("llama2c", b.format());
            ModelConfig gc = g.config();
            ModelConfig bc = b.config();
            // The files differ only in context length (2048 vs 512) and in GGUF's separate copy of the classifier.
            assertEquals(512, bc.maxPositionEmbeddings());
            assertTrue(bc.tieWordEmbeddings());
            assertFalse(gc.tieWordEmbeddings());
            assertEquals(new ModelConfig(gc.architecture(), gc.hiddenSize(), gc.numLayers(), gc.numHeads(),
                    gc.numKvHeads(), gc.headDim(), gc.intermediateSize(), gc.vocabSize(), 512, gc.rmsNormEps(),
                    gc.ropeTheta(), gc.ropeScaling(), gc.ropePairing(), true, gc.attentionBias(), gc.bosTokenId(),
                    gc.eosTokenIds()).toString().replaceAll("\\[I@\\w+", ""), bc.toString().replaceAll("\\[I@\\w+", ""));
            assertArrayEquals(gc.eosTokenIds(), bc.eosTokenIds());
            assertEquals(TensorLayout.expected(bc).size() + 1, g.tensors().size());
            assertEquals(TensorLayout.expected(bc).keySet(), b.tensors().keySet());
            for (TensorData t : b.tensors().values()) {
                TensorData other = g.tensor(t.name());
                assertArrayEquals(t.shape(), other.shape(), t.name());
                assertEquals(-1, t.data().mismatch(other.data()), t.name() + " differs between the two files");
            }
            assertEquals(-1, g.tensor("lm_head.weight").data().mismatch(b.tensor("model.embed_tokens.weight").data()));
            // SOURCE.md: tokens and scores equal; both converters must give the same tokenizer.json.
            assertEquals(new ObjectMapper().readTree(g.tokenizerJson()), new ObjectMapper().readTree(b.tokenizerJson()));
        }
    }

    @Test
    void llama2cFindsItsTokenizerOrSaysWhichItWanted() throws IOException {
        Path lone = tmp.resolve("m.bin");
        Files.copy(bin(), lone);
        IOException e = assertThrows(IOException.class, () -> Llama2c.load(lone, null, "m.bin"));
        assertTrue(e.getMessage().contains("tok512.bin or tokenizer.bin"), e.getMessage());
        Files.copy(bin().resolveSibling("tok512.bin"), tmp.resolve("tokenizer.bin"));
        try (Checkpoint c = Llama2c.load(lone, null, "m.bin")) {
            assertEquals(512, c.config().vocabSize());
        }
    }

    @Test
    void truncatedFilesFailClearly() throws IOException {
        byte[] bytes = Files.readAllBytes(bin());
        Path cut = tmp.resolve("cut.bin");
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length - 4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Llama2c.load(cut, bin().resolveSibling("tok512.bin"), "cut.bin"));
        assertTrue(e.getMessage().contains("1056536 bytes"), e.getMessage());

        byte[] g = Files.readAllBytes(gguf());
        Path cutG = tmp.resolve("cut.gguf");
        Files.write(cutG, java.util.Arrays.copyOf(g, 5000));
        e = assertThrows(IllegalArgumentException.class, () -> GgufFile.open(cutG));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        Files.write(cutG, java.util.Arrays.copyOf(g, g.length - 100));
        e = assertThrows(IllegalArgumentException.class, () -> GgufFile.open(cutG));
        assertTrue(e.getMessage().contains("past the end of the file"), e.getMessage());
    }

    @Test
    void unsharedClassifierIsReadAsLmHead() throws IOException {
        // The stories file with vocab_size negated and a classifier appended: llama2.c's unshared layout.
        byte[] bytes = Files.readAllBytes(bin());
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(bytes.length + 512 * 64 * 4)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        buf.put(bytes);
        for (int i = 0; i < 512 * 64; i++) {
            buf.putFloat(i * 0.5f);
        }
        buf.putInt(20, -512);
        Path file = tmp.resolve("unshared.bin");
        Files.write(file, buf.array());
        try (Checkpoint c = Llama2c.load(file, bin().resolveSibling("tok512.bin"), "unshared")) {
            assertFalse(c.config().tieWordEmbeddings());
            assertEquals(512, c.config().vocabSize());
            float[] head = Tensors.toFloats(c.tensor("lm_head.weight"));
            assertEquals(1000.5f, head[2001]);
        }
    }
}
