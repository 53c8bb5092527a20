package org.pairwise.model.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.accel.Tensor;
import org.pairwise.accel.TensorView;
import org.pairwise.accel.cpu.CpuBackend;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.engine.TestCheckpoints;

/** An adapter's parameters in one flat buffer, its gradients in another of the same layout, and PEFT's file unchanged. */
class LoraAdapterBufferTest {
    private static final CpuBackend be = new CpuBackend(2);
    private static final ModelConfig MODEL = TestCheckpoints.qwen2(71);
    private static final LoraConfig CONFIG = new LoraConfig(4, 8, LoraConfig.ALL_TARGETS, 0, false, "test");

    /**
     * sha256 of adapter_model.safetensors for create(CONFIG, MODEL, seed 9) with B set to 0.01 * (index + 1), as
     * written by commit 46ca64d, where each matrix was a tensor of its own.
     */
    private static final String SAVED_BEFORE_FLAT_BUFFERS =
            "f9e47a9832308c5eb6eb1067372cb60fe4e729ac2ced869e573df57f3ba91ecd";

    @TempDir
    Path tmp;

    @AfterAll
    static void close() {
        be.close();
    }

    @Test
    void theParametersAreConsecutiveViewsOfOneBufferInPeftOrder() {
        LoraAdapter a = LoraAdapter.create(CONFIG, MODEL, be, 9);
        List<Tensor> params = a.parameters();
        assertEquals(MODEL.numLayers() * 7 * 2, params.size());
        assertSame(a.parameterBuffer(), TensorView.tiled(params));
        Map<String, Tensor> named = a.namedParameters();
        assertEquals(List.copyOf(named.values()), params);
        LoraAdapter.Pair down = a.pair(1, "down_proj");
        assertSame(down.a(), named.get(LoraConfig.key(1, "down_proj", "A")));
        assertEquals((long) CONFIG.r() * MODEL.intermediateSize(), down.a().size());
        assertEquals((long) MODEL.hiddenSize() * CONFIG.r(), down.b().size());
        LoraGradients g = new LoraGradients(a, MODEL, be);
        assertSame(g.buffer(), TensorView.tiled(g.tensors()));
        for (int i = 0; i < params.size(); i++) {
            assertEquals(params.get(i).size(), g.tensors().get(i).size(), "gradient " + i + " is shaped as its parameter");
            assertEquals(TensorView.offsetOf(params.get(i)), TensorView.offsetOf(g.tensors().get(i)));
        }
        be.upload(g.pair(0, "q_proj").dB(), 0, new float[] {1, 2, 3}, 0, 3);
        g.zero();
        assertEquals(0.0, be.sumOfSquares(g.buffer(), g.buffer().size()), "zero clears the whole buffer");
    }

    @Test
    void aCopyIsIndependentAndSaveLoadRoundTripsBitForBit() throws Exception {
        LoraAdapter a = withNonZeroB(LoraAdapter.create(CONFIG, MODEL, be, 9));
        LoraAdapter c = a.copy(be);
        float[] before = be.download(a.parameterBuffer());
        be.scale(c.parameterBuffer(), 2f, c.parameterBuffer().size());
        assertArrayEquals(before, be.download(a.parameterBuffer()), "scaling the copy leaves the original");
        a.save(tmp.resolve("a"), be);
        LoraAdapter loaded = LoraAdapter.load(tmp.resolve("a"), MODEL, be);
        assertArrayEquals(before, be.download(loaded.parameterBuffer()));
    }

    @Test
    void theSavedFileIsByteForByteWhatPerTensorAdaptersWrote() throws Exception {
        LoraAdapter a = withNonZeroB(LoraAdapter.create(CONFIG, MODEL, be, 9));
        a.save(tmp.resolve("a"), be);
        byte[] file = Files.readAllBytes(tmp.resolve("a/adapter_model.safetensors"));
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(file));
        assertEquals(SAVED_BEFORE_FLAT_BUFFERS, sha);
    }

    /** B is zero at creation; a file that pins the layout needs values there too. */
    static LoraAdapter withNonZeroB(LoraAdapter a) {
        int i = 0;
        for (int l = 0; l < MODEL.numLayers(); l++) {
            for (String p : CONFIG.targetModules()) {
                Tensor b = a.pair(l, p).b();
                float[] v = new float[(int) b.size()];
                java.util.Arrays.fill(v, 0.01f * ++i);
                be.upload(b, 0, v, 0, v.length);
            }
        }
        return a;
    }
}
