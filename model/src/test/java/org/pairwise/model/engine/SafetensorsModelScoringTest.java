package org.pairwise.model.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.pairwise.accel.Backend;
import org.pairwise.accel.DType;
import org.pairwise.accel.cpu.CpuBackend;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.model.load.ModelConfigs;
import org.pairwise.model.load.ModelSource;
import org.pairwise.model.load.SafetensorsWriter;
import org.pairwise.model.load.TensorData;
import org.pairwise.model.load.Tensors;
import org.pairwise.model.tokenizer.TokenizerJsonBuilder;

/**
 * A model written to disk as an HF directory (Llama and Qwen2 layouts; F32 and BF16; one file or sharded) loads and
 * scores exactly as the same weights held in F32 in memory, and as the double-precision reference.
 */
class SafetensorsModelScoringTest {
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

    static final List<SequenceScorer.Sequence> SEQS = List.of(
            new SequenceScorer.Sequence(new int[] {1, 72, 101, 108, 108, 111, 2}, 2),
            new SequenceScorer.Sequence(new int[] {1, 87, 111, 114}, 1),
            new SequenceScorer.Sequence(new int[] {1, 200, 201, 202, 203, 204, 205, 206, 257}, 4));

    @ParameterizedTest(name = "{0} {1} shards={2}")
    @CsvSource({"llama, F32, 1", "llama, BF16, 3", "qwen2, BF16, 1", "qwen2, F32, 2", "llama, F16, 1"})
    void writtenModelScoresAsTheSameWeightsInF32(String arch, DType dtype, int shards) throws Exception {
        ModelConfig config = arch.equals("llama") ? TestCheckpoints.llama(258, false) : TestCheckpoints.qwen2(258);
        try (Checkpoint random = TestCheckpoints.random(config, 11, DType.F32)) {
            // Round through the stored dtype so the F32 twin holds exactly the values on disk.
            Map<String, float[]> values = TestCheckpoints.roundedToBf16(random);
            List<TensorData> tensors = new ArrayList<>();
            values.forEach((name, v) -> tensors.add(Tensors.of(name, dtype, random.tensor(name).shape(), v)));
            Files.writeString(dir.resolve("config.json"), ModelConfigs.toHfJson(config));
            Files.writeString(dir.resolve("tokenizer.json"), TokenizerJsonBuilder.byteLevel());
            if (shards == 1) {
                SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
            } else {
                List<List<TensorData>> parts = new ArrayList<>();
                for (int s = 0; s < shards; s++) {
                    parts.add(new ArrayList<>());
                }
                for (int i = 0; i < tensors.size(); i++) {
                    parts.get(i % shards).add(tensors.get(i));
                }
                SafetensorsWriter.writeSharded(dir, parts, Map.of("format", "pt"));
            }
            try (Checkpoint loaded = ModelSource.open(dir.toString(), null);
                 Checkpoint f32 = TestCheckpoints.build(config, values, TestCheckpoints.shapes(random), DType.F32)) {
                assertEquals(dtype, loaded.tensor("model.layers.0.mlp.up_proj.weight").dtype());
                List<SequenceScorer.Score> got = new SequenceScorer(LlamaModel.load(loaded, be), 64).score(SEQS);
                List<SequenceScorer.Score> want = new SequenceScorer(LlamaModel.load(f32, be), 64).score(SEQS);
                ReferenceDecoder ref = new ReferenceDecoder(f32);
                for (int i = 0; i < SEQS.size(); i++) {
                    assertEquals(want.get(i).logprob(), got.get(i).logprob(), 1e-4, "sequence " + i);
                    int[] ids = SEQS.get(i).ids();
                    double[][] logits = ref.logits(ids);
                    double expected = 0;
                    for (int t = SEQS.get(i).promptLength() - 1; t + 1 < ids.length; t++) {
                        expected += ReferenceDecoder.logSoftmax(logits[t], ids[t + 1]);
                    }
                    assertEquals(expected, got.get(i).logprob(), 1e-3, "reference, sequence " + i);
                }
            }
        }
    }
}
