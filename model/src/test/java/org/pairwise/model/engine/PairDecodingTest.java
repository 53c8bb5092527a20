package org.pairwise.model.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.pairwise.accel.Backend;
import org.pairwise.accel.DType;
import org.pairwise.accel.RopeTable;
import org.pairwise.accel.cpu.CpuBackend;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.model.sample.SamplingParams;

/**
 * A pair decoded as one batch of two (one prefill, the cache copied to both rows, each weight row read once per step
 * for both) is exactly the two single-sequence generations with the same seeds: token for token, log-prob for
 * log-prob, in every storage type the decode kernels read.
 */
class PairDecodingTest {
    // Qwen2-like (q/k/v biases, untied head), sizes that are multiples of 32 so Q8_0 can store every matrix, with
    // a vocabulary that is not.
    static final ModelConfig CFG = new ModelConfig("Qwen2ForCausalLM", 64, 2, 4, 2, 16, 96, 101, 128, 1e-6f,
            10000.0, null, RopeTable.Pairing.HALVES, false, true, -1, new int[] {2});

    @ParameterizedTest
    @EnumSource(DType.class)
    void batchedPairEqualsTwoSequentialGenerations(DType dtype) throws Exception {
        try (Checkpoint ck = TestCheckpoints.random(CFG, 3, dtype); Backend be = new CpuBackend(2)) {
            LlamaModel m = LlamaModel.load(ck, be);
            Generator gen = new Generator(m);
            // A prompt long enough for the tiled prefill kernel, then 40 sampled tokens (top-p filtered).
            int[] prompt = {1, 17, 33, 5, 90, 64, 7};
            SamplingParams first = new SamplingParams(40, 1.0, 0.95, 0, 901);
            SamplingParams second = new SamplingParams(40, 1.0, 0.95, 0, 902);
            Generation[] pair = gen.generatePair(prompt, first, null, null, null);
            Generation a = gen.generate(prompt, first, null), b = gen.generate(prompt, second, null);
            assertArrayEquals(a.tokenIds(), pair[0].tokenIds(), dtype + ": first row");
            // Log-probs to float rounding: the Vector API leaves the order of a lane reduction to the JIT tier, so
            // the same sum can differ in its last bit between an early (interpreted) call and a compiled one.
            assertArrayEquals(a.logprobs(), pair[0].logprobs(), 1e-5f, dtype + ": first row's log-probs");
            assertEquals(a.finishReason(), pair[0].finishReason());
            assertArrayEquals(b.tokenIds(), pair[1].tokenIds(), dtype + ": second row");
            assertArrayEquals(b.logprobs(), pair[1].logprobs(), 1e-5f, dtype + ": second row's log-probs");
            assertEquals(b.finishReason(), pair[1].finishReason());
            // Either may end early on EOS; together they must have decoded a while, and differently.
            assertTrue(a.tokenIds().length + b.tokenIds().length >= 30 && !Arrays.equals(a.tokenIds(), b.tokenIds()),
                    "two different samples of some length: " + Arrays.toString(a.tokenIds()) + " / "
                            + Arrays.toString(b.tokenIds()));
        }
    }
}
