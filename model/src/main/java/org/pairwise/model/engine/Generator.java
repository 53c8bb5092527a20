package org.pairwise.model.engine;

import java.util.Arrays;
import org.pairwise.model.ModelConfig;
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

    public Generation generate(int[] promptIds, SamplingParams params, TokenListener listener) {
        ModelConfig cfg = model.config();
        int P = promptIds.length;
        if (P == 0) {
            throw new IllegalArgumentException("the prompt has no tokens (start from BOS for an empty prompt)");
        }
        if (P >= cfg.maxPositionEmbeddings()) {
            throw new IllegalArgumentException("the prompt has " + P + " tokens, but the model's context is "
                    + cfg.maxPositionEmbeddings() + " positions");
        }
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

        model.forward(act, cache, promptIds, 1, P, 0);
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
            model.forward(step, cache, new int[] {token}, 1, 1, pos++);
            model.logits(step, new int[] {0}, logits);
        }
        return new Generation(promptIds, Arrays.copyOf(out, n), Arrays.copyOf(logprobs, n), finish);
    }
}
