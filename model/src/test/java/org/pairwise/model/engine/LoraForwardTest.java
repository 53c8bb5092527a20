package org.pairwise.model.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.accel.Backend;
import org.pairwise.accel.DType;
import org.pairwise.accel.cpu.CpuBackend;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.model.load.SafetensorsWriter;
import org.pairwise.model.load.TensorData;
import org.pairwise.model.load.Tensors;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.model.lora.LoraConfig;

/** A PEFT adapter applied at run time computes what the merged weights W + scaling * B A compute. */
public class LoraForwardTest {
    static Backend be;

    @TempDir
    Path dir;

    @BeforeAll
    static void open() {
        be = new CpuBackend(2);
    }

    @AfterAll
    static void close() {
        be.close();
    }

    /** Writes a random PEFT adapter; returns the A and B values by key. */
    public static Map<String, float[]> writeAdapter(Path dir, ModelConfig c, LoraConfig lc, long seed) throws Exception {
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, float[]> values = new LinkedHashMap<>();
        List<TensorData> tensors = new ArrayList<>();
        for (int l = 0; l < c.numLayers(); l++) {
            for (String p : lc.targetModules()) {
                int[] io = LoraAdapter.dims(c, p);
                float[] a = random(rng, lc.r() * io[0]);
                float[] b = random(rng, io[1] * lc.r());
                values.put(LoraConfig.key(l, p, "A"), a);
                values.put(LoraConfig.key(l, p, "B"), b);
                tensors.add(Tensors.of(LoraConfig.key(l, p, "A"), DType.F32, new long[] {lc.r(), io[0]}, a));
                tensors.add(Tensors.of(LoraConfig.key(l, p, "B"), DType.F32, new long[] {io[1], lc.r()}, b));
            }
        }
        Files.writeString(dir.resolve("adapter_config.json"), lc.toJson());
        SafetensorsWriter.write(dir.resolve("adapter_model.safetensors"), tensors, Map.of("format", "pt"));
        return values;
    }

    static float[] random(SplittableRandom rng, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) ((rng.nextDouble() - 0.5) * 0.4);
        }
        return v;
    }

    @Test
    void adapterOnAllSevenProjectionsEqualsMergedWeights() throws Exception {
        ModelConfig c = TestCheckpoints.qwen2(71);
        LoraConfig lc = new LoraConfig(3, 6, LoraConfig.ALL_TARGETS, 0, false, "test");
        assertMerged(c, lc);
    }

    @Test
    void rsLoraScalesByAlphaOverSqrtR() throws Exception {
        ModelConfig c = TestCheckpoints.llama(67, false);
        LoraConfig lc = new LoraConfig(4, 3, List.of("q_proj", "v_proj", "down_proj"), 0, true, "test");
        assertEquals(1.5, lc.scaling(), 1e-12);
        assertMerged(c, lc);
    }

    private void assertMerged(ModelConfig c, LoraConfig lc) throws Exception {
        try (Checkpoint base = TestCheckpoints.random(c, 21, DType.F32)) {
            Map<String, float[]> ab = writeAdapter(dir, c, lc, 5);
            Map<String, float[]> merged = new LinkedHashMap<>();
            base.tensors().forEach((name, t) -> merged.put(name, Tensors.toFloats(t)));
            for (int l = 0; l < c.numLayers(); l++) {
                for (String p : lc.targetModules()) {
                    int[] io = LoraAdapter.dims(c, p);
                    float[] w = merged.get("model.layers." + l + "." + LoraConfig.modulePath(p) + ".weight");
                    float[] a = ab.get(LoraConfig.key(l, p, "A")), b = ab.get(LoraConfig.key(l, p, "B"));
                    for (int o = 0; o < io[1]; o++) {
                        for (int i = 0; i < io[0]; i++) {
                            double s = 0;
                            for (int k = 0; k < lc.r(); k++) {
                                s += b[o * lc.r() + k] * a[k * io[0] + i];
                            }
                            w[o * io[0] + i] += (float) (lc.scaling() * s);
                        }
                    }
                }
            }
            try (Checkpoint mergedCk = TestCheckpoints.build(c, merged, TestCheckpoints.shapes(base), DType.F32)) {
                LlamaModel m = LlamaModel.load(base, be);
                m.setAdapter(LoraAdapter.load(dir, c, be));
                int[] tokens = LlamaModelTest.TOKENS;
                float[] adapted = logits(m, tokens);
                double[][] ref = new ReferenceDecoder(mergedCk).logits(tokens);
                double[][] baseRef = new ReferenceDecoder(base).logits(tokens);
                int V = c.vocabSize();
                double moved = 0;
                for (int t = 0; t < tokens.length; t++) {
                    for (int v = 0; v < V; v++) {
                        assertEquals(ref[t][v], adapted[t * V + v], 3e-4, "logit [" + t + "," + v + "]");
                        moved = Math.max(moved, Math.abs(ref[t][v] - baseRef[t][v]));
                    }
                }
                assertTrue(moved > 0.05, "the adapter must change the logits, max change " + moved);
                float[] disabled = logits(m, tokens, null);
                for (int t = 0; t < tokens.length; t++) {
                    for (int v = 0; v < V; v++) {
                        assertEquals(baseRef[t][v], disabled[t * V + v], 2e-4);
                    }
                }
            }
        }
    }

    static float[] logits(LlamaModel m, int[] tokens) {
        return logits(m, tokens, m.adapter());
    }

    /** Logits of every position under the given adapter (null: the base model). */
    static float[] logits(LlamaModel m, int[] tokens, LoraAdapter adapter) {
        int T = tokens.length, V = m.config().vocabSize();
        Activations a = m.newActivations(T);
        m.forward(a, m.newCache(1, T), tokens, 1, T, 0, adapter);
        int[] rows = new int[T];
        for (int t = 0; t < T; t++) {
            rows[t] = t;
        }
        float[] out = new float[T * V];
        m.logits(a, rows, out);
        return out;
    }

    @Test
    void adapterForAnotherModelIsRejectedClearly() throws Exception {
        ModelConfig small = TestCheckpoints.llama(67, false);
        writeAdapter(dir, TestCheckpoints.qwen2(71), new LoraConfig(2, 4, List.of("q_proj"), 0, false, "x"), 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LoraAdapter.load(dir, small, be));
        assertTrue(e.getMessage().contains("q_proj.lora_A") && e.getMessage().contains("another base model"),
                e.getMessage());
        Files.writeString(dir.resolve("adapter_config.json"), "{\"peft_type\":\"PREFIX_TUNING\"}");
        e = assertThrows(IllegalArgumentException.class, () -> LoraAdapter.load(dir, small, be));
        assertTrue(e.getMessage().contains("PREFIX_TUNING"), e.getMessage());
    }
}
