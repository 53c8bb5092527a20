package org.pairwise.launcher;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.pairwise.accel.Backend;
import org.pairwise.accel.Backends;
import org.pairwise.accel.DType;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.engine.Generator;
import org.pairwise.model.engine.LlamaModel;
import org.pairwise.model.engine.SequenceScorer;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.model.load.ModelSource;
import org.pairwise.model.load.TensorData;
import org.pairwise.model.sample.SamplingParams;

/**
 * `pairwise bench` without --dpo: prefill log-probs (batch x length tokens through the fused kernel), greedy decode
 * (batch 1, a short prompt, KV cache, prompt time subtracted) and, with --pair-tokens, pair generation (two sampled
 * responses of one prompt decoded as a batch of two, against two sequential generations), on random weights of a
 * named shape or on a model file (the GGUF files bench/engine-table.sh shares with llama.cpp).
 */
final class EngineBench {
    private EngineBench() {}

    static Map<String, Object> run(BenchCommand o) throws Exception {
        try (Checkpoint ck = o.model != null ? ModelSource.open(o.model, null)
                : BenchCommand.randomCheckpoint(BenchCommand.shape(o.shape), o.dtype);
             Backend be = Backends.open("cpu", o.threads)) {
            ModelConfig c = ck.config();
            LlamaModel model = LlamaModel.load(ck, be);
            SplittableRandom rng = new SplittableRandom(7);
            List<SequenceScorer.Sequence> seqs = new ArrayList<>();
            for (int b = 0; b < o.batch; b++) {
                seqs.add(new SequenceScorer.Sequence(rng.ints(o.length, 0, c.vocabSize()).toArray(), 1));
            }
            SequenceScorer scorer = new SequenceScorer(model, o.batch * o.length);
            double prefill = best(o.repeats, () -> scorer.score(seqs));
            Generator gen = new Generator(model);
            int[] prompt = rng.ints(o.promptTokens, 0, c.vocabSize()).toArray();
            // Decode excludes the prompt's prefill: time the whole generation, subtract a prefill-only run.
            SamplingParams one = SamplingParams.greedy(1);
            SamplingParams many = SamplingParams.greedy(o.decodeTokens + 1);
            double prefillOnly = best(o.repeats, () -> gen.generate(prompt, one, null));
            int[] decoded = new int[1];
            double all = best(o.repeats, () -> decoded[0] = gen.generate(prompt, many, null).tokenIds().length);
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("engine", "pairwise-cpu");
            r.put("shape", o.shape);
            r.put("dtype", storage(ck).name());
            r.put("model", o.model != null ? o.model : "random");
            r.put("threads", o.threads > 0 ? o.threads : Runtime.getRuntime().availableProcessors());
            r.put("prefill_batch", o.batch);
            r.put("prefill_length", o.length);
            r.put("prefill_tokens_per_s", o.batch * o.length / prefill);
            r.put("decode_prompt", o.promptTokens);
            r.put("decode_tokens", decoded[0] - 1);
            r.put("decode_tokens_per_s", (decoded[0] - 1) / (all - prefillOnly));
            if (o.pairTokens > 0) {
                // Sampled as the server samples (temperature 1, no filters); an early EOS would shorten both sides
                // alike, so the token counts are reported with the rates.
                SamplingParams sp = new SamplingParams(o.pairTokens, 1.0, 1.0, 0, 11);
                SamplingParams sp2 = new SamplingParams(o.pairTokens, 1.0, 1.0, 0, 12);
                int[] tokens = new int[2];
                double batched = best(o.repeats, () -> {
                    var g = gen.generatePair(prompt, sp, null, null, null);
                    tokens[0] = g[0].tokenIds().length + g[1].tokenIds().length;
                });
                double sequential = best(o.repeats, () -> tokens[1] = gen.generate(prompt, sp, null).tokenIds().length
                        + gen.generate(prompt, sp2, null).tokenIds().length);
                r.put("pair_tokens", o.pairTokens);
                r.put("pairs_per_min_batched", 60 / batched);
                r.put("pairs_per_min_sequential", 60 / sequential);
                r.put("pair_tokens_generated", List.of(tokens[0], tokens[1]));
            }
            r.put("peak_rss_mb", BenchCommand.peakRssMb());
            return r;
        }
    }

    /** The storage type of the decoder's projections (norms are F32 whatever the file's weights are). */
    private static DType storage(Checkpoint ck) {
        TensorData t = ck.tensors().get("model.layers.0.mlp.up_proj.weight");
        return t != null ? t.dtype() : DType.F32;
    }

    static double best(int repeats, Runnable r) {
        r.run();
        double best = Double.MAX_VALUE;
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            r.run();
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        return best;
    }
}
