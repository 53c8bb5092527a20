package org.pairwise.model.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.accel.DType;

class ModelSourceTest {
    @TempDir
    Path tmp;

    @Test
    void demoNeedsNoFiles() throws IOException {
        try (Checkpoint c = ModelSource.open("demo", null, Map.of(), null)) {
            assertEquals("demo", c.format());
            TensorLayout.validate("demo", c.config(), c.tensors());
        }
    }

    @Test
    void eachLocalFormatIsRecognised() throws IOException {
        Path dir = TestModels.writeHfModel(tmp.resolve("m"), TestModels.tinyConfig("MistralForCausalLM", false),
                DType.F16, 1);
        try (Checkpoint c = ModelSource.open(dir.toString(), null, Map.of(), null)) {
            assertEquals("hf", c.format());
            assertEquals("MistralForCausalLM", c.config().architecture());
        }
        Path stories = TestModels.shared("stories260K");
        try (Checkpoint c = ModelSource.open(stories.resolve("stories260K.gguf").toString(), null, Map.of(), null)) {
            assertEquals("gguf", c.format());
        }
        try (Checkpoint c = ModelSource.open(stories.resolve("stories260K.bin").toString(), null, Map.of(), null)) {
            assertEquals("llama2c", c.format());
        }
    }

    @Test
    void tokenizerOverrideReplacesTheModelsOwn() throws IOException {
        Path dir = TestModels.writeHfModel(tmp.resolve("m"), TestModels.tinyConfig("LlamaForCausalLM", true),
                DType.F32, 1);
        Path tok = tmp.resolve("other.json");
        Files.writeString(tok, "{\"version\": \"1.0\", \"model\": {\"type\": \"WordLevel\"}}");
        try (Checkpoint c = ModelSource.open(dir.toString(), tok, Map.of(), null)) {
            assertEquals(Files.readString(tok), c.tokenizerJson());
        }
    }

    @Test
    void badSpecsFailWithOneClearLine() throws IOException {
        IOException e = assertThrows(IOException.class,
                () -> ModelSource.open(tmp.resolve("nope.gguf").toString(), null, Map.of(), null));
        assertEquals("no such file or directory: " + tmp.resolve("nope.gguf"), e.getMessage());
        Path odd = Files.writeString(tmp.resolve("weights.pt"), "x");
        IllegalArgumentException iae = assertThrows(IllegalArgumentException.class,
                () -> ModelSource.open(odd.toString(), null, Map.of(), null));
        assertTrue(iae.getMessage().startsWith("unknown model file type"), iae.getMessage());
        Path notGguf = Files.writeString(tmp.resolve("fake.gguf"), "not a gguf file at all, just text");
        iae = assertThrows(IllegalArgumentException.class, () -> ModelSource.open(notGguf.toString(), null, Map.of(), null));
        assertTrue(iae.getMessage().contains("not a GGUF file"), iae.getMessage());
    }
}
