package org.pairwise.launcher.align;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.pairwise.model.Engine;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.engine.Generation;
import org.pairwise.model.engine.Generator;
import org.pairwise.model.engine.SequenceScorer;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.model.sample.SamplingParams;
import org.pairwise.server.config.ServeConfig;
import org.pairwise.server.gen.PairGenerator.PromptInput;
import org.pairwise.server.gen.PromptSet;

/**
 * Draws fresh samples from a policy (base + adapter) and scores them under the reference (the base, adapter off), the
 * way the server's generator samples: pairs of samples per prompt, the server's sampling settings.
 *
 * <p>Sample i always uses the same prompt and the same sampler seed, whatever the policy: two measurements differ only
 * by the policy (common random numbers), so a change in rate is the policy's and not the dice's.
 */
public final class PolicyProbe implements AutoCloseable {

    /**
     * One response.
     *
     * @param logprob    log π(y|x) summed over the response's tokens (as the generator records them, temperature 1)
     * @param refLogprob log π_ref(y|x), the same tokens scored by the base model with the adapter disabled
     */
    public record Sample(int promptIndex, String text, int tokens, boolean endedWithEos, double logprob,
                         double refLogprob) {
        /** Characters of the stripped text: what the {@code shorter}/{@code longer} rules compare. */
        public int chars() {
            String t = text.strip();
            return t.codePointCount(0, t.length());
        }
    }

    /**
     * What one measurement found: the word's rate (null when no word is tracked), the length in characters and in
     * tokens (an ending EOS not counted), the KL estimate and the reference's log-prob of the samples, per response.
     */
    public record Measurement(int samples, Stats.Proportion wordRate, Stats.Mean chars, Stats.Mean tokens,
                              Stats.Mean kl, Stats.Mean refLogprob, double seconds) {}

    private final Engine engine;
    private final List<PromptInput> prompts;
    private final SamplingParams sampling;
    private final boolean ownsEngine;

    /**
     * @param engine   the base model to sample and score with (its own backend; not the server's)
     * @param prompts  the prompts cycled through, sample 2i and 2i+1 from prompt i mod size
     * @param sampling max_new_tokens, temperature, top_p, top_k as the server samples; seed of sample pair 0
     */
    public PolicyProbe(Engine engine, List<PromptInput> prompts, SamplingParams sampling) {
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException("the probe needs at least one prompt");
        }
        this(engine, prompts, sampling, false);
    }

    private PolicyProbe(Engine engine, List<PromptInput> prompts, SamplingParams sampling, boolean ownsEngine) {
        this.engine = engine;
        this.prompts = List.copyOf(prompts);
        this.sampling = sampling;
        this.ownsEngine = ownsEngine;
    }

    /**
     * A probe for a server started with {@code cfg}: the same model (opened again here, memory-mapped, with its own
     * {@code threads}), the same prompt file and sampling settings; {@code seed} seeds the first sample pair.
     */
    public static PolicyProbe open(ServeConfig cfg, int threads, long seed) throws IOException {
        List<PromptInput> prompts = cfg.prompts() == null ? PromptSet.builtin()
                : PromptSet.parse(Files.readString(Path.of(cfg.prompts())), cfg.prompts());
        Engine e = Engine.open(cfg.model(), cfg.tokenizer() == null ? null : Path.of(cfg.tokenizer()), cfg.backend(),
                threads);
        return new PolicyProbe(e, prompts, new SamplingParams(cfg.maxNewTokens(), cfg.temperature(), cfg.topP(),
                cfg.topK(), seed), true);
    }

    public SamplingParams sampling() {
        return sampling;
    }

    @Override
    public void close() {
        if (ownsEngine) {
            engine.close();
        }
    }

    public ModelConfig config() {
        return engine.config();
    }

    public Engine engine() {
        return engine;
    }

    /** {@code n} samples (rounded up to even: they come in pairs) from base + adapter; adapter null is the base. */
    public List<Sample> sample(LoraAdapter adapter, int n) {
        Generator gen = new Generator(engine.model());
        int pairs = (n + 1) / 2;
        List<Sample> out = new ArrayList<>(2 * pairs);
        List<SequenceScorer.Sequence> seqs = new ArrayList<>(2 * pairs);
        List<Generation> gens = new ArrayList<>(2 * pairs);
        List<Integer> promptOf = new ArrayList<>(2 * pairs);
        int[][] encoded = new int[prompts.size()][];
        for (int i = 0; i < pairs; i++) {
            int p = i % prompts.size();
            if (encoded[p] == null) {
                PromptInput in = prompts.get(p);
                encoded[p] = in.messages() != null ? engine.encodeChat(in.messages()) : engine.encodePrompt(in.text());
            }
            // The generator seeds side two with seed + 1; 2i keeps every sample's seed distinct.
            SamplingParams seeded = new SamplingParams(sampling.maxNewTokens(), sampling.temperature(),
                    sampling.topP(), sampling.topK(), sampling.seed() + 2L * i);
            for (Generation g : gen.generatePair(encoded[p], seeded, adapter, null, null)) {
                gens.add(g);
                promptOf.add(p);
                int[] ids = new int[g.promptIds().length + g.tokenIds().length];
                System.arraycopy(g.promptIds(), 0, ids, 0, g.promptIds().length);
                System.arraycopy(g.tokenIds(), 0, ids, g.promptIds().length, g.tokenIds().length);
                seqs.add(new SequenceScorer.Sequence(ids, g.promptIds().length));
            }
        }
        List<SequenceScorer.Score> ref = new SequenceScorer(engine.model(), 8192).score(seqs, null);
        for (int k = 0; k < gens.size(); k++) {
            Generation g = gens.get(k);
            double lp = 0;
            for (float x : g.logprobs()) {
                lp += x;
            }
            boolean eos = "eos".equals(g.finishReason());
            out.add(new Sample(promptOf.get(k), engine.tokenizer().decode(g.tokenIds(), true),
                    g.tokenIds().length - (eos ? 1 : 0), eos, lp, ref.get(k).logprob()));
        }
        return out;
    }

    /** Samples and summarises them: the word's rate (when {@code hasWord} is given), lengths, and the KL estimate. */
    public Measurement measure(LoraAdapter adapter, int n, Predicate<String> hasWord) {
        long t0 = System.nanoTime();
        List<Sample> s = sample(adapter, n);
        return summarise(s, hasWord, (System.nanoTime() - t0) / 1e9);
    }

    /**
     * The KL estimate is the mean over the policy's own samples of log π(y) − log π_ref(y): an unbiased Monte Carlo
     * estimate of KL(π‖π_ref) over whole responses when the samples come from π at temperature 1 with no top-p/top-k
     * truncation (otherwise it is the same quantity over the sampling distribution the annotators see).
     */
    public static Measurement summarise(List<Sample> s, Predicate<String> hasWord, double seconds) {
        int n = s.size();
        double[] chars = new double[n], tokens = new double[n], kl = new double[n], ref = new double[n];
        int hits = 0;
        for (int i = 0; i < n; i++) {
            Sample x = s.get(i);
            chars[i] = x.chars();
            tokens[i] = x.tokens();
            kl[i] = x.logprob() - x.refLogprob();
            ref[i] = x.refLogprob();
            if (hasWord != null && hasWord.test(x.text())) {
                hits++;
            }
        }
        return new Measurement(n, hasWord == null ? null : Stats.wilson(hits, n), Stats.mean(chars),
                Stats.mean(tokens), Stats.mean(kl), Stats.mean(ref), seconds);
    }
}
