package org.pairwise.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.pairwise.accel.Backend;
import org.pairwise.accel.DType;
import org.pairwise.accel.DTypes;
import org.pairwise.accel.RopeTable;
import org.pairwise.accel.cpu.CpuBackend;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.engine.LlamaModel;
import org.pairwise.model.engine.LoraForwardTest;
import org.pairwise.model.engine.SequenceScorer;
import org.pairwise.model.engine.TestCheckpoints;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.model.load.ModelConfigs;
import org.pairwise.model.load.ModelSource;
import org.pairwise.model.load.SafetensorsWriter;
import org.pairwise.model.load.TensorData;
import org.pairwise.model.load.Tensors;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.model.lora.LoraConfig;
import org.pairwise.model.lora.LoraMerge;
import org.pairwise.model.tokenizer.TokenizerJsonBuilder;

/**
 * A merged model directory, loaded as a plain HF model without any adapter, scores as its base with the adapter
 * applied: for GGUF and llama2.c bases (adjacent RoPE pairs, so Q/K rows are moved back to HF's layout) and for tiny
 * Llama and Qwen2 (q/k/v biases) HF directories, in F32 and BF16.
 */
class MergeCommandTest {
    @TempDir
    Path tmp;

    /** Writes {@code ck} as an HF directory (config.json, model.safetensors in {@code dtype}, a byte-level tokenizer). */
    static Path writeHfModel(Path dir, Checkpoint ck, DType dtype) throws Exception {
        Files.createDirectories(dir);
        List<TensorData> tensors = new ArrayList<>();
        ck.tensors().forEach((name, t) -> tensors.add(Tensors.of(name, dtype, t.shape(), Tensors.toFloats(t))));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        Files.writeString(dir.resolve("config.json"), ModelConfigs.toHfJson(ck.config()));
        Files.writeString(dir.resolve("tokenizer.json"), TokenizerJsonBuilder.byteLevel());
        return dir;
    }

    /** Pre-tokenized records over ids below {@code vocab}, of different lengths. */
    static Path pretokenized(Path file, int vocab, int records, long seed) throws Exception {
        java.util.SplittableRandom rng = new java.util.SplittableRandom(seed);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < records; i++) {
            lines.add("{\"prompt_input_ids\":" + ids(rng, vocab, 1 + i % 3) + ",\"chosen_input_ids\":"
                    + ids(rng, vocab, 2 + i % 4) + ",\"rejected_input_ids\":" + ids(rng, vocab, 3 + (i * 2) % 5) + "}");
        }
        Files.write(file, lines);
        return file;
    }

    private static String ids(java.util.SplittableRandom rng, int vocab, int n) {
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < n; i++) {
            s.append(i == 0 ? "" : ",").append(3 + rng.nextInt(vocab - 3));
        }
        return s.append(']').toString();
    }

    static List<JsonNode> scores(String... args) throws Exception {
        CliTest.Result r = CliTest.run(args);
        assertEquals(0, r.code(), r.err());
        Path out = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--out")) {
                out = Path.of(args[i + 1]);
            }
        }
        List<JsonNode> rows = new ArrayList<>();
        for (String line : Files.readAllLines(out)) {
            rows.add(Json.MAPPER.readTree(line));
        }
        return rows;
    }

    /** Max |difference| of chosen and rejected logps; asserts the records line up. */
    static double maxLogpDiff(List<JsonNode> a, List<JsonNode> b) {
        assertEquals(a.size(), b.size());
        double max = 0;
        for (int i = 0; i < a.size(); i++) {
            for (String f : List.of("prompt_tokens", "chosen_tokens", "rejected_tokens")) {
                assertEquals(a.get(i).get(f).asInt(), b.get(i).get(f).asInt(), f);
            }
            for (String f : List.of("chosen_logps", "rejected_logps")) {
                max = Math.max(max, Math.abs(a.get(i).get(f).asDouble() - b.get(i).get(f).asDouble()));
            }
        }
        return max;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"stories260K.gguf", "stories260K.bin"})
    void mergedStories260KScoresAsTheBaseWithTheAdapter(String file) throws Exception {
        String model = CliTest.stories(file);
        ModelConfig c;
        try (Checkpoint ck = ModelSource.open(model, null)) {
            c = ck.config();
        }
        assertEquals(RopeTable.Pairing.ADJACENT, c.ropePairing());
        Path adapter = Files.createDirectories(tmp.resolve("adapter"));
        LoraForwardTest.writeAdapter(adapter, c, new LoraConfig(4, 8, LoraConfig.ALL_TARGETS, 0, false, model), 17);
        Path merged = tmp.resolve("merged");
        CliTest.Result m = CliTest.run("merge", "--model", model, "--adapter", adapter.toString(), "--out",
                merged.toString());
        assertEquals(0, m.code(), m.err());
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                "generation_config.json")) {
            assertTrue(Files.isRegularFile(merged.resolve(f)), f);
        }
        JsonNode info = Json.MAPPER.readTree(CliTest.run("info", "--model", merged.toString(), "--json").out());
        assertEquals("halves", info.get("rope_pairing").asText(), "an HF directory always pairs by halves");
        assertEquals("1 <s>", info.get("bos_token").asText());
        assertEquals("float32", Json.MAPPER.readTree(merged.resolve("config.json").toFile()).get("torch_dtype").asText());

        // Text records go through both tokenizers too: the merged directory must tokenize as the source does.
        Path data = tmp.resolve("d.jsonl");
        Files.write(data, List.of(
                "{\"prompt\":\"Once upon a time\",\"chosen\":\" there was a cat.\",\"rejected\":\" the end.\"}",
                "{\"prompt\":\"Lily went to the park\",\"chosen\":\" and saw a big tree.\",\"rejected\":\" no.\"}"));
        List<JsonNode> withAdapter = scores("score", "--model", model, "--adapter", adapter.toString(), "--data",
                data.toString(), "--out", tmp.resolve("a.jsonl").toString());
        List<JsonNode> base = scores("score", "--model", model, "--data", data.toString(), "--out",
                tmp.resolve("b.jsonl").toString());
        List<JsonNode> fromMerged = scores("score", "--model", merged.toString(), "--data", data.toString(), "--out",
                tmp.resolve("m.jsonl").toString());
        assertTrue(maxLogpDiff(withAdapter, base) > 0.1, "the adapter moves the log-probs (else the test proves nothing)");
        // F32 throughout: the merged weights differ from W x + s B (A x) only by float rounding.
        assertEquals(0, maxLogpDiff(withAdapter, fromMerged), 1e-3);
    }

    @ParameterizedTest(name = "{0} stored {1}, merged {2}")
    @CsvSource({"llama, F32, default", "qwen2, F32, default", "llama, BF16, default", "qwen2, BF16, default",
            "qwen2, BF16, F32", "llama, F32, F16"})
    void mergedTinyHfModelScoresAsTheBaseWithTheAdapter(String arch, DType stored, String dtype) throws Exception {
        ModelConfig c = arch.equals("llama") ? TestCheckpoints.llama(258, false) : TestCheckpoints.qwen2(258);
        Path model;
        try (Checkpoint random = TestCheckpoints.random(c, 23, DType.F32)) {
            model = writeHfModel(tmp.resolve("base"), random, stored);
        }
        Path adapter = Files.createDirectories(tmp.resolve("adapter"));
        LoraForwardTest.writeAdapter(adapter, c, new LoraConfig(3, 6, LoraConfig.ALL_TARGETS, 0, false, "base"), 5);
        Path merged = tmp.resolve("merged");
        List<String> args = new ArrayList<>(List.of("merge", "--model", model.toString(), "--adapter",
                adapter.toString(), "--out", merged.toString()));
        if (!dtype.equals("default")) {
            args.addAll(List.of("--dtype", dtype));
        }
        CliTest.Result m = CliTest.run(args.toArray(String[]::new));
        assertEquals(0, m.code(), m.err());
        DType expected = dtype.equals("default") ? stored : DType.valueOf(dtype);
        try (Checkpoint ck = ModelSource.open(merged.toString(), null)) {
            assertEquals(c.architecture(), ck.config().architecture());
            assertEquals(c.attentionBias(), ck.config().attentionBias());
            assertEquals(c.tieWordEmbeddings(), ck.config().tieWordEmbeddings());
            assertEquals(expected, ck.tensor("model.layers.1.mlp.down_proj.weight").dtype());
            assertEquals(expected, ck.tensor("model.norm.weight").dtype());
        }

        Path data = pretokenized(tmp.resolve("d.jsonl"), 258, 5, 9);
        List<JsonNode> withAdapter = scores("score", "--model", model.toString(), "--adapter", adapter.toString(),
                "--data", data.toString(), "--out", tmp.resolve("a.jsonl").toString());
        List<JsonNode> base = scores("score", "--model", model.toString(), "--data", data.toString(), "--out",
                tmp.resolve("b.jsonl").toString());
        List<JsonNode> fromMerged = scores("score", "--model", merged.toString(), "--data", data.toString(), "--out",
                tmp.resolve("m.jsonl").toString());
        double moved = maxLogpDiff(withAdapter, base);
        assertTrue(moved > 0.1, "the adapter moves the log-probs by " + moved);
        double diff = maxLogpDiff(withAdapter, fromMerged);
        if (expected == DType.F32) {
            assertEquals(0, diff, 1e-3);
            return;
        }
        // A 16-bit merge is the F32 merge (checked above to 1e-3 in the other cases) rounded once per weight, to
        // nearest even, and nothing else: compare every stored value bit for bit with the rounded F32 merge.
        Path merged32 = tmp.resolve("merged32");
        assertEquals(0, CliTest.run("merge", "--model", model.toString(), "--adapter", adapter.toString(), "--out",
                merged32.toString(), "--dtype", "F32").code());
        try (Checkpoint m16 = ModelSource.open(merged.toString(), null);
             Checkpoint m32 = ModelSource.open(merged32.toString(), null)) {
            assertEquals(m32.tensors().keySet(), m16.tensors().keySet());
            for (String name : m32.tensors().keySet()) {
                float[] want = Tensors.toFloats(m32.tensor(name));
                float[] got = Tensors.toFloats(m16.tensor(name));
                for (int i = 0; i < want.length; i++) {
                    float rounded = expected == DType.BF16 ? DTypes.bf16ToFloat(DTypes.floatToBf16(want[i]))
                            : Float.float16ToFloat(Float.floatToFloat16(want[i]));
                    if (Float.compare(rounded, got[i]) != 0) {
                        throw new AssertionError(name + "[" + i + "]: " + got[i] + ", want " + rounded);
                    }
                }
            }
        }
        // And as a model: that rounding (relative 2^-9 for BF16, 2^-11 for F16, on weights whose LoRA deltas here
        // are as large as the weights) moves log-probs by about 1% of what the adapter moved them; a lost adapter or
        // a misplaced row would be off by all of it.
        assertTrue(diff < moved / 20, "16-bit merge differs by " + diff + " (adapter moved " + moved + ")");
    }

    @Test
    void adjacentQwen2BiasesAreMovedBackToHfRows() throws Exception {
        // A GGUF-style (adjacent pairs) Qwen2 with q/k biases: only the in-memory route builds one, as GGUF qwen2
        // files are not loaded. The merged file must hold the HF rows of both weights and biases.
        ModelConfig c = TestCheckpoints.qwen2(101);
        try (Backend be = new CpuBackend(2);
             Checkpoint hf = TestCheckpoints.random(c, 31, DType.F32);
             Checkpoint adjacent = TestCheckpoints.toAdjacentLayout(hf)) {
            Path adapter = Files.createDirectories(tmp.resolve("adapter"));
            LoraForwardTest.writeAdapter(adapter, c, new LoraConfig(2, 4, LoraConfig.ALL_TARGETS, 0, false, "t"), 7);
            Path out = Files.createDirectories(tmp.resolve("merged"));
            LoraMerge.Summary s = LoraMerge.write(adjacent, LoraAdapter.load(adapter, adjacent.config(), be), be,
                    DType.F32, out.resolve("model.safetensors"));
            assertEquals(2 * 7, s.merged());
            Files.writeString(out.resolve("config.json"), ModelConfigs.toHfJson(c));
            Files.writeString(out.resolve("tokenizer.json"), TokenizerJsonBuilder.byteLevel());
            try (Checkpoint merged = ModelSource.open(out.toString(), null)) {
                // Without an adapter the merge is exactly the inverse permutation: the HF bias comes back bit for bit.
                float[] want = Tensors.toFloats(hf.tensor("model.layers.1.self_attn.k_proj.bias"));
                float[] got = Tensors.toFloats(merged.tensor("model.layers.1.self_attn.k_proj.bias"));
                assertEquals(java.util.Arrays.toString(want), java.util.Arrays.toString(got));

                List<SequenceScorer.Sequence> seqs = List.of(
                        new SequenceScorer.Sequence(new int[] {5, 17, 99, 3, 42, 8, 60}, 2),
                        new SequenceScorer.Sequence(new int[] {9, 1, 77, 45}, 1));
                LlamaModel adapted = LlamaModel.load(adjacent, be);
                adapted.setAdapter(LoraAdapter.load(adapter, adjacent.config(), be));
                List<SequenceScorer.Score> a = new SequenceScorer(adapted, 64).score(seqs);
                List<SequenceScorer.Score> m = new SequenceScorer(LlamaModel.load(merged, be), 64).score(seqs);
                List<SequenceScorer.Score> plain = new SequenceScorer(LlamaModel.load(hf, be), 64).score(seqs);
                for (int i = 0; i < seqs.size(); i++) {
                    assertTrue(Math.abs(a.get(i).logprob() - plain.get(i).logprob()) > 0.05, "adapter matters");
                    assertEquals(a.get(i).logprob(), m.get(i).logprob(), 1e-3);
                }
            }
        }
    }

    @Test
    void hfRowsComeFromTheirAdjacentPositions() {
        // Head size 6: HF rows (0 1 2 | 3 4 5) pair i with i+3; llama.cpp stored them as 0 3 1 4 2 5.
        int[] want = {0, 2, 4, 1, 3, 5, 6, 8, 10, 7, 9, 11};
        for (int r = 0; r < want.length; r++) {
            assertEquals(want[r], LoraMerge.adjacentRow(r, 6), "row " + r);
        }
    }

    @Test
    void badInputIsOneReadableLine() throws Exception {
        ModelConfig c = TestCheckpoints.llama(258, false);
        Path model;
        try (Checkpoint random = TestCheckpoints.random(c, 2, DType.F32)) {
            model = writeHfModel(tmp.resolve("base"), random, DType.F32);
        }
        Path adapter = Files.createDirectories(tmp.resolve("adapter"));
        LoraForwardTest.writeAdapter(adapter, c, new LoraConfig(2, 4, List.of("q_proj"), 0, false, "base"), 1);
        Path busy = Files.createDirectories(tmp.resolve("busy"));
        Files.writeString(busy.resolve("keep.txt"), "mine");
        CliTest.assertOneLineError(CliTest.run("merge", "--model", model.toString(), "--adapter", adapter.toString(),
                "--out", busy.toString()), "not empty");
        assertEquals("mine", Files.readString(busy.resolve("keep.txt")));
        UsageErrorsTest.assertUsageError(CliTest.run("merge", "--model", model.toString(), "--adapter",
                adapter.toString(), "--out", tmp.resolve("x").toString(), "--dtype", "Q8_0"), "F32, BF16, F16");

        Path other = Files.createDirectories(tmp.resolve("other-adapter"));
        LoraForwardTest.writeAdapter(other, TestCheckpoints.qwen2(258),
                new LoraConfig(2, 4, List.of("q_proj"), 0, false, "q"), 1);
        CliTest.assertOneLineError(CliTest.run("merge", "--model", model.toString(), "--adapter", other.toString(),
                "--out", tmp.resolve("y").toString()), "another base model");
        assertFalse(Files.exists(tmp.resolve("y")), "no partial output");
        assertEquals(2, CliTest.run("merge", "--model", model.toString(), "--out", tmp.resolve("z").toString()).code(),
                "--adapter is required (usage error)");
    }
}
