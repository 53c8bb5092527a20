package org.pairwise.server.gen;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.pairwise.model.Engine;
import org.pairwise.model.engine.Generation;
import org.pairwise.model.engine.Generator;
import org.pairwise.model.engine.LlamaModel;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.model.sample.SamplingParams;
import org.pairwise.model.tokenizer.StreamingDecoder;

/**
 * Makes pairs: one prompt, two independent samples from the current policy (the prompt prefilled once, its KV cache
 * shared, both samples decoded together). The policy is swapped atomically between generations by
 * {@link #setPolicy}; a pair records the version that produced it. Blocking: call it from a worker thread. Safe to
 * call from several threads (each call has its own buffers; the policy snapshot is immutable).
 */
public final class PairGenerator {
    /** A prompt as a person or a prompt file gives it: plain text, or a conversation for the chat template. */
    public record PromptInput(String text, List<Map<String, Object>> messages) {
        public PromptInput {
            if ((text == null) == (messages == null)) {
                throw new IllegalArgumentException("a prompt is either text or messages");
            }
        }

        public static PromptInput text(String text) {
            return new PromptInput(text, null);
        }

        /** What a person sees as the prompt: the text, or the conversation as "role: content" lines. */
        public String display() {
            if (text != null) {
                return text;
            }
            StringBuilder sb = new StringBuilder();
            for (Map<String, Object> m : messages) {
                sb.append(sb.isEmpty() ? "" : "\n").append(m.get("role")).append(": ").append(m.get("content"));
            }
            return sb.toString();
        }
    }

    /** One response: its text, token ids (an ending EOS included), per-token log-probs and why it stopped. */
    public record Sample(String text, int[] tokenIds, float[] logprobs, String finishReason) {}

    public record GeneratedPair(PromptInput prompt, int[] promptIds, Sample first, Sample second, int policyVersion,
                                SamplingParams params) {}

    /** Receives each sample's text as it grows (a UTF-8-safe delta per token). */
    @FunctionalInterface
    public interface TextListener {
        void onText(String delta);
    }

    private record Policy(LoraAdapter adapter, int version) {}

    private final Engine engine;
    private final LlamaModel model;
    private final SamplingParams params;
    private final AtomicLong pairs = new AtomicLong();
    private volatile Policy policy;

    /**
     * @param engine  the tokenizer and chat template (and, unless model is given, the model)
     * @param model   the decoder to generate with (e.g. on a backend with the generation thread budget)
     * @param initial the policy to start from (version 0 when null: the base model)
     */
    public PairGenerator(Engine engine, LlamaModel model, SamplingParams params, LoraAdapter initial, int version) {
        this.engine = engine;
        this.model = model;
        this.params = params;
        this.policy = new Policy(initial, version);
    }

    /** Switches to a new policy; generations already running finish with the one they started with. */
    public void setPolicy(LoraAdapter snapshot, int version) {
        policy = new Policy(snapshot, version);
    }

    public int policyVersion() {
        return policy.version();
    }

    public SamplingParams params() {
        return params;
    }

    public int[] encode(PromptInput prompt) {
        return prompt.messages() != null ? engine.encodeChat(prompt.messages()) : engine.encodePrompt(prompt.text());
    }

    /** Two samples of the prompt; the listeners (either may be null) stream each sample's text. */
    public GeneratedPair generate(PromptInput prompt, TextListener first, TextListener second) {
        return generate(prompt, encode(prompt), first, second);
    }

    public GeneratedPair generate(PromptInput prompt, int[] promptIds, TextListener first, TextListener second) {
        Policy p = policy;
        // Distinct seeds per pair (and per side inside the generator), reproducible from the configured seed.
        long n = pairs.getAndIncrement();
        SamplingParams seeded = new SamplingParams(params.maxNewTokens(), params.temperature(), params.topP(),
                params.topK(), params.seed() + 2 * n);
        StreamingDecoder da = engine.tokenizer().streamingDecoder(true);
        StreamingDecoder db = engine.tokenizer().streamingDecoder(true);
        Generation[] g = new Generator(model).generatePair(promptIds, seeded, p.adapter(),
                first == null ? null : (id, lp) -> {
                    first.onText(da.accept(id));
                    return true;
                },
                second == null ? null : (id, lp) -> {
                    second.onText(db.accept(id));
                    return true;
                });
        return new GeneratedPair(prompt, promptIds, sample(g[0]), sample(g[1]), p.version(), seeded);
    }

    private Sample sample(Generation g) {
        return new Sample(engine.tokenizer().decode(g.tokenIds(), true), g.tokenIds(), g.logprobs(), g.finishReason());
    }
}
