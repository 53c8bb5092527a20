package org.pairwise.model.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.accel.DType;
import org.pairwise.model.ModelConfig;

class HfDirectoryTest {
    @TempDir
    Path tmp;

    @Test
    void llamaF32ShardedLoadsWithItsValues() throws IOException {
        ModelConfig c = TestModels.tinyConfig("LlamaForCausalLM", false);
        Path dir = TestModels.writeHfModel(tmp.resolve("llama"), c, DType.F32, 3);
        try (Checkpoint ckpt = HfDirectory.load(dir)) {
            assertEquals("hf", ckpt.format());
            assertEquals(c.architecture(), ckpt.config().architecture());
            assertFalse(ckpt.config().attentionBias());
            assertEquals(TensorLayout.expected(c).keySet(), ckpt.tensors().keySet());
            assertTrue(ckpt.tensors().containsKey("lm_head.weight"));
            for (TensorData w : TestModels.weights(c, DType.F32, 42)) {
                assertArrayEquals(Tensors.toFloats(w), Tensors.toFloats(ckpt.tensor(w.name())), w.name());
            }
            assertTrue(ckpt.tokenizerJson().contains("\"model\""));
        }
    }

    @Test
    void qwen2Bf16WithBiasesTiedLoadsSameValuesAsF32() throws IOException {
        ModelConfig c = TestModels.tinyConfig("Qwen2ForCausalLM", true);
        Path bf16 = TestModels.writeHfModel(tmp.resolve("bf16"), c, DType.BF16, 1);
        Path f32 = TestModels.writeHfModel(tmp.resolve("f32"), c, DType.F32, 1);
        try (Checkpoint a = HfDirectory.load(bf16); Checkpoint b = HfDirectory.load(f32)) {
            assertTrue(a.config().attentionBias());
            assertTrue(a.config().tieWordEmbeddings());
            assertFalse(a.tensors().containsKey("lm_head.weight"));
            assertEquals(List.of(4L * 4), List.of(a.tensor("model.layers.1.self_attn.q_proj.bias").numel()));
            assertEquals(DType.BF16, a.tensor("model.layers.0.self_attn.k_proj.bias").dtype());
            for (String name : b.tensors().keySet()) {
                assertArrayEquals(Tensors.toFloats(b.tensor(name)), Tensors.toFloats(a.tensor(name)), name);
            }
        }
    }

    @Test
    void missingTensorIsNamed() throws IOException {
        ModelConfig c = TestModels.tinyConfig("Qwen2ForCausalLM", true);
        Path dir = TestModels.writeHfModel(tmp.resolve("m"), c, DType.F32, 1);
        List<TensorData> w = new ArrayList<>(TestModels.weights(c, DType.F32, 42));
        w.removeIf(t -> t.name().equals("model.layers.1.self_attn.v_proj.bias"));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), w, Map.of());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HfDirectory.load(dir));
        assertTrue(e.getMessage().contains("missing tensor model.layers.1.self_attn.v_proj.bias"), e.getMessage());
    }

    @Test
    void shapeMismatchIsNamed() throws IOException {
        ModelConfig c = TestModels.tinyConfig("LlamaForCausalLM", true);
        Path dir = TestModels.writeHfModel(tmp.resolve("m"), c, DType.F32, 1);
        // The same weights under a config claiming a wider MLP.
        Files.writeString(dir.resolve("config.json"), Files.readString(dir.resolve("config.json"))
                .replace("\"intermediate_size\" : 24", "\"intermediate_size\" : 32"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HfDirectory.load(dir));
        assertTrue(e.getMessage().contains("model.layers.0.mlp.gate_proj.weight has shape [24, 16], but the config"
                + " implies [32, 16]"), e.getMessage());
    }

    @Test
    void unknownArchitectureAndMissingFilesFailClearly() throws IOException {
        ModelConfig c = TestModels.tinyConfig("LlamaForCausalLM", true);
        Path dir = TestModels.writeHfModel(tmp.resolve("m"), c, DType.F32, 1);
        Files.delete(dir.resolve("tokenizer.json"));
        IOException io = assertThrows(IOException.class, () -> HfDirectory.load(dir));
        assertTrue(io.getMessage().contains("no tokenizer.json"), io.getMessage());
        Files.writeString(dir.resolve("config.json"), Files.readString(dir.resolve("config.json"))
                .replace("LlamaForCausalLM", "PhiForCausalLM"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HfDirectory.load(dir));
        assertTrue(e.getMessage().contains("unsupported architecture PhiForCausalLM"), e.getMessage());
        io = assertThrows(IOException.class, () -> HfDirectory.load(tmp.resolve("empty")));
        assertTrue(io.getMessage().contains("no config.json"), io.getMessage());
    }

    @Test
    void namesWithoutModelPrefixAreCanonicalised() throws IOException {
        ModelConfig c = TestModels.tinyConfig("LlamaForCausalLM", false);
        Path dir = TestModels.writeHfModel(tmp.resolve("bare"), c, DType.F32, 1);
        List<TensorData> renamed = new ArrayList<>();
        for (TensorData t : TestModels.weights(c, DType.F32, 42)) {
            String n = t.name().startsWith("model.") ? t.name().substring(6) : t.name();
            renamed.add(new TensorData(n, t.dtype(), t.shape(), t.data()));
        }
        SafetensorsWriter.write(dir.resolve("model.safetensors"), renamed, Map.of());
        try (Checkpoint ckpt = HfDirectory.load(dir)) {
            assertEquals(TensorLayout.expected(c).keySet(), ckpt.tensors().keySet());
            assertEquals("model.norm.weight", ckpt.tensor("model.norm.weight").name());
        }
    }
}
