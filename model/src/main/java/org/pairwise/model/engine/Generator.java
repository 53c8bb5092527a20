package org.pairwise.model.engine;

import java.util.Arrays;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.model.sample.Sampler;
import org.pairwise.model.sample.SamplingParams;

/** Prefill the prompt once, then KV-cached decode one token at a time until EOS or max_new_tokens. */
public final class Generator {

    /** Called for every new token as soon as it is chosen (the server streams them); false stops generation. */
    @FunctionalInterface
    public interface TokenListener {
        boolean onToken(int tokenId, float logprob);
    }

    private final LlamaModel model;

    public Generator(LlamaModel model) {
        this.model = model;
    }

    /**
     * Two independent samples of one prompt under the given adapter (null: the base model): the prompt is prefilled
     * once, its KV cache copied to both rows, and both continue in one batched decode (one pass over the weights per
     * step for two tokens). The second sample's sampler is seeded with seed + 1.
     */
    public Generation[] generatePair(int[] promptIds, SamplingParams params, LoraAdapter adapter,
                                     TokenListener first, TokenListener second) {
        ModelConfig cfg = model.config();
        int P = checkPrompt(promptIds);
        int maxT = Math.min(cfg.maxPositionEmbeddings(), P + params.maxNewTokens());
        int V = cfg.vocabSize();
        KvCache one = model.newCache(1, maxT);
        Activations act = model.newActivations(P);
        model.forward(act, one, promptIds, 1, P, 0, adapter);
        float[] prefillLogits = new float[V];
        model.logits(act, new int[] {P - 1}, prefillLogits);
        KvCache two = model.newCache(2, maxT);
        model.copyCacheRow(one, 0, two, 0, P);
        model.copyCacheRow(one, 0, two, 1, P);
        Activations step = model.newActivations(2);
        Sampler[] samplers = {new Sampler(params), new Sampler(new SamplingParams(params.maxNewTokens(),
                params.temperature(), params.topP(), params.topK(), params.seed() + 1))};
        TokenListener[] listeners = {first, second};
        int budget = maxT - P;
        int[][] out = new int[2][budget];
        float[][] lps = new float[2][budget];
        int[] n = new int[2];
        String[] finish = {"length", "length"};
        boolean[] done = new boolean[2];
        float[] logits = new float[2 * V];
        System.arraycopy(prefillLogits, 0, logits, 0, V);
        System.arraycopy(prefillLogits, 0, logits, V, V);
        int pos = P;
        int[] next = new int[2];
        while (true) {
            for (int b = 0; b < 2; b++) {
                if (done[b]) {
                    continue;
                }
                int token = samplers[b].sample(logits, b * V, V);
                float lp = (float) Sampler.logprob(logits, b * V, V, token);
                out[b][n[b]] = token;
                lps[b][n[b]] = lp;
                n[b]++;
                next[b] = token;
                boolean more = listeners[b] == null || listeners[b].onToken(token, lp);
                if (cfg.isEos(token)) {
                    finish[b] = "eos";
                    done[b] = true;
                } else if (!more) {
                    finish[b] = "stopped";
                    done[b] = true;
                } else if (n[b] == budget) {
                    done[b] = true;
                }
            }
            if (done[0] && done[1]) {
                break;
            }
            // A finished row keeps decoding its last token: cheaper than reshaping the batch, and its output is unused.
            model.forward(step, two, next, 2, 1, pos++, adapter);
            model.logits(step, new int[] {0, 1}, logits);
        }
        Generation[] result = new Generation[2];
        for (int b = 0; b < 2; b++) {
            result[b] = new Generation(promptIds, Arrays.copyOf(out[b], n[b]), Arrays.copyOf(lps[b], n[b]), finish[b]);
        }
        return result;
    }

    private int checkPrompt(int[] promptIds) {
        ModelConfig cfg = model.config();
        int P = promptIds.length;
        if (P == 0) {
            throw new IllegalArgumentException("the prompt has no tokens (start from BOS for an empty prompt)");
        }
        if (P >= cfg.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("the prompt has " + P + " tokens, but the model's context is "
                    + cfg.maxPositionEmbeddings() + " positions");
        }
        return P;
    }

    public Generation generate(int[] promptIds, SamplingParams params, TokenListener listener) {
        return generate(promptIds, params, model.adapter(), listener);
    }

    /** One sample of the prompt under the given adapter (null: the base model); battles switch adapters per call. */
    public Generation generate(int[] promptIds, SamplingParams params, LoraAdapter adapter, TokenListener listener) {
        ModelConfig cfg = model.config();
        int P = checkPrompt(promptIds);
        int maxT = Math.min(cfg.maxPositionEmbeddings(), P + params.maxNewTokens());
        int V = cfg.vocabSize();
        KvCache cache = model.newCache(1, maxT);
        Activations act = model.newActivations(P);
        Activations step = model.newActivations(1);
        Sampler sampler = new Sampler(params);
        float[] logits = new float[V];
        int[] out = new int[maxT - P];
        float[] logprobs = new float[out.length];
        int n = 0;
        String finish = "length";

        model.forward(act, cache, promptIds, 1, P, 0, adapter);
        model.logits(act, new int[] {P - 1}, logits);
        int pos = P;
        while (n < out.length) {
            int token = sampler.sample(logits, 0, V);
            float lp = (float) Sampler.logprob(logits, 0, V, token);
            out[n] = token;
            logprobs[n] = lp;
            n++;
            boolean more = listener == null || listener.onToken(token, lp);
            if (cfg.isEos(token)) {
                finish = "eos";
                break;
            }
            if (!more) {
                finish = "stopped";
                break;
            }
            if (n == out.length) {
                break;
            }
            model.forward(step, cache, new int[] {token}, 1, 1, pos++, adapter);
            model.logits(step, new int[] {0}, logits);
        }
        return new Generation(promptIds, Arrays.copyOf(out, n), Arrays.copyOf(logprobs, n), finish);
    }
}
