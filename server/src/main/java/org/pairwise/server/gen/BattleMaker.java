package org.pairwise.server.gen;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.SplittableRandom;
import org.pairwise.accel.Backend;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.engine.Generation;
import org.pairwise.model.engine.Generator;
import org.pairwise.model.engine.LlamaModel;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.model.sample.SamplingParams;
import org.pairwise.model.tokenizer.Tokenizer;
import org.pairwise.server.gen.PairGenerator.Sample;
import org.pairwise.server.gen.PairPool.ServedPair;
import org.pairwise.server.store.PreferenceStore;
import org.pairwise.server.store.PreferenceStore.PairRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes blind battles: at {@code eval_fraction} of the pool's refills, one prompt answered once by the served policy
 * and once by an opponent, a kept earlier version (half the time the reference, version 0, the leaderboard's anchor;
 * else any other kept or pinned version, uniformly), the sides randomised. The base weights are shared: each side is
 * one generation under its own LoRA adapter ({@link Generator#generate} with an explicit adapter), and the last few
 * adapters loaded are cached. A battle is stored as a pair of kind 'battle' with each side's version; the pair the
 * annotator gets names only the served version, as any pair does. Which refills are battles, the opponents and the
 * sides follow the seed given (the configured seed: the same sequence after a restart, so a run's battles can be
 * replayed); the samples' seeds move on with the sampling seed like any pair's. Generation thread only.
 */
public final class BattleMaker {
    private static final Logger LOG = LoggerFactory.getLogger(BattleMaker.class);
    private static final int CACHED_ADAPTERS = 4;
    /** Battle samples' seeds start here, far from the ordinary pairs' (the configured seed + 2 per pair). */
    private static final long BATTLE_SEEDS = 1L << 40;

    /** Where kept versions are: their numbers (0 first), and each one's adapter directory (null: the base model). */
    public interface Versions {
        List<Integer> kept() throws IOException;

        Path dir(int version);

        /** The kept list and the directories from two functions (e.g. PublishedPolicies::kept, ::existing). */
        static Versions of(KeptList kept, java.util.function.IntFunction<Path> dir) {
            return new Versions() {
                @Override
                public List<Integer> kept() throws IOException {
                    return kept.get();
                }

                @Override
                public Path dir(int version) {
                    return dir.apply(version);
                }
            };
        }
    }

    /** The versions on disk, 0 first (reading them may fail). */
    @FunctionalInterface
    public interface KeptList {
        List<Integer> get() throws IOException;
    }

    private final LlamaModel model;
    private final Tokenizer tokenizer;
    private final ModelConfig modelConfig;
    private final Backend backend;
    private final PreferenceStore store;
    private final Versions versions;
    private final double evalFraction;
    private final SamplingParams params;
    private final SplittableRandom random;
    private long battles;
    private final Map<Integer, LoraAdapter> adapters = new LinkedHashMap<>(8, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, LoraAdapter> eldest) {
            return size() > CACHED_ADAPTERS;
        }
    };

    public BattleMaker(LlamaModel model, Tokenizer tokenizer, Backend backend, PreferenceStore store,
                       Versions versions, double evalFraction, SamplingParams params, long seed) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.modelConfig = model.config();
        this.backend = backend;
        this.store = store;
        this.versions = versions;
        this.evalFraction = evalFraction;
        this.params = params;
        this.random = new SplittableRandom(seed);
    }

    /**
     * At eval_fraction of calls, while another kept version exists, a stored battle of the served version against
     * one; null otherwise (the pool then makes an ordinary pair). A version pruned meanwhile also gives null.
     */
    ServedPair maybe(ActivePrompts.Active prompt, int served, int votesWanted) throws Exception {
        if (evalFraction <= 0 || random.nextDouble() >= evalFraction) {
            return null;
        }
        Integer opponent = opponent(served);
        if (opponent == null) {
            return null;
        }
        LoraAdapter mine, theirs;
        try {
            mine = adapter(served);
            theirs = adapter(opponent);
        } catch (IOException e) {
            LOG.debug("no battle of v{} against v{}: {}", served, opponent, e.toString());
            return null;
        }
        boolean servedIsA = random.nextBoolean();
        long n = battles++;
        Sample s = sample(prompt.ids(), mine, 2 * n);
        Sample o = sample(prompt.ids(), theirs, 2 * n + 1);
        Sample a = servedIsA ? s : o, b = servedIsA ? o : s;
        int aVersion = servedIsA ? served : opponent, bVersion = servedIsA ? opponent : served;
        String id = UUID.randomUUID().toString();
        String settings = io.vertx.core.json.JsonObject.of("max_new_tokens", params.maxNewTokens(), "temperature",
                params.temperature(), "top_p", params.topP(), "top_k", params.topK(), "battle",
                true).encode();
        store.addBattlePair(new PairRecord(id, prompt.id(), prompt.input().display(), prompt.ids(), a.text(),
                a.tokenIds(), a.logprobs(), a.finishReason(), b.text(), b.tokenIds(), b.logprobs(), b.finishReason(),
                servedIsA, served, settings, System.currentTimeMillis()), votesWanted, aVersion, bVersion).get();
        return new ServedPair(id, prompt.input(), a, b, served);
    }

    /** Half the time the reference, else a uniform pick among the other kept versions; null when none. */
    private Integer opponent(int served) throws IOException {
        List<Integer> others = new ArrayList<>();
        for (int v : versions.kept()) {
            if (v != served && v != 0) {
                others.add(v);
            }
        }
        boolean reference = served != 0 && (others.isEmpty() || random.nextBoolean());
        if (reference) {
            return 0;
        }
        return others.isEmpty() ? null : others.get(random.nextInt(others.size()));
    }

    private LoraAdapter adapter(int version) throws IOException {
        if (adapters.containsKey(version)) {
            return adapters.get(version);
        }
        Path dir = versions.dir(version);
        if (dir == null && version != 0) {
            throw new IOException("policy version " + version + " is no longer kept");
        }
        LoraAdapter a = dir == null ? null : LoraAdapter.load(dir, modelConfig, backend);
        adapters.put(version, a);
        return a;
    }

    private Sample sample(int[] promptIds, LoraAdapter adapter, long offset) {
        SamplingParams seeded = new SamplingParams(params.maxNewTokens(), params.temperature(), params.topP(),
                params.topK(), params.seed() + BATTLE_SEEDS + offset);
        Generation g = new Generator(model).generate(promptIds, seeded, adapter, null);
        return new Sample(tokenizer.decode(g.tokenIds(), true), g.tokenIds(), g.logprobs(), g.finishReason());
    }
}
