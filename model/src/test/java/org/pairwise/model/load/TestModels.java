package org.pairwise.model.load;

import org.pairwise.model.SharedModels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.pairwise.accel.DType;
import org.pairwise.accel.RopeTable;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.tokenizer.TokenizerJsonBuilder;

/** The shared real model files, and tiny HF-layout models written on the spot. */
final class TestModels {
    private TestModels() {}

    static Path shared(String name) {
        return SharedModels.require(name);
    }

    static ModelConfig tinyConfig(String arch, boolean tied) {
        boolean qwen = arch.equals("Qwen2ForCausalLM");
        return new ModelConfig(arch, 16, 2, 4, 2, 4, 24, 40, 128, 1e-6f, qwen ? 1000000.0 : 10000.0, null,
                RopeTable.Pairing.HALVES, tied, qwen, 1, new int[] {2});
    }

    /** Seeded weights for every tensor the config implies, with values exactly representable in BF16 and F16. */
    static List<TensorData> weights(ModelConfig c, DType dtype, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<TensorData> out = new ArrayList<>();
        for (Map.Entry<String, long[]> e : TensorLayout.expected(c).entrySet()) {
            long n = 1;
            for (long d : e.getValue()) {
                n *= d;
            }
            float[] v = new float[(int) n];
            for (int i = 0; i < v.length; i++) {
                v[i] = (rng.nextInt(255) - 127) / 64f;
            }
            out.add(Tensors.of(e.getKey(), dtype, e.getValue(), v));
        }
        return out;
    }

    /** A complete HF model directory: config.json, weights (sharded when shards > 1), tokenizer.json. */
    static Path writeHfModel(Path dir, ModelConfig c, DType dtype, int shards) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), ModelConfigs.toHfJson(c));
        Files.writeString(dir.resolve("tokenizer.json"), TokenizerJsonBuilder.byteLevel());
        List<TensorData> w = weights(c, dtype, 42);
        if (shards == 1) {
            SafetensorsWriter.write(dir.resolve(Safetensors.SINGLE_FILE), w, Map.of("format", "pt"));
        } else {
            List<List<TensorData>> parts = new ArrayList<>();
            for (int s = 0; s < shards; s++) {
                parts.add(new ArrayList<>());
            }
            for (int i = 0; i < w.size(); i++) {
                parts.get(i * shards / w.size()).add(w.get(i));
            }
            SafetensorsWriter.writeSharded(dir, parts, Map.of("format", "pt"));
        }
        return dir;
    }
}
