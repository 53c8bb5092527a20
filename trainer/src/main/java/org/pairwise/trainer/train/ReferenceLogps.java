package org.pairwise.trainer.train;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.pairwise.model.engine.SequenceScorer;
import org.pairwise.model.engine.SequenceScorer.Score;
import org.pairwise.model.engine.SequenceScorer.Sequence;
import org.pairwise.model.lora.LoraAdapter;

/**
 * Reference-model log-probs: the base model with the policy's adapter disabled (TRL with PEFT and ref_model=None), or
 * a frozen adapter when training continues from one or when the reference follows the policy (TR-DPO,
 * {@link ReferenceSync}). Between two changes of the reference each sequence is scored once (no backward state) and
 * cached; whoever changes the reference adapter calls {@link #invalidate()}. With precompute_ref_log_probs the whole
 * data set is scored up front.
 */
public final class ReferenceLogps {
    private record Key(int[] ids, int promptLength) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.promptLength == promptLength && Arrays.equals(k.ids, ids);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(ids) + promptLength;
        }
    }

    private final SequenceScorer scorer;
    private final LoraAdapter referenceAdapter;
    private final Cache<Key, Score> cache;

    /** referenceAdapter null means the base model; maxEntries bounds the cache (about 100 bytes an entry). */
    public ReferenceLogps(SequenceScorer scorer, LoraAdapter referenceAdapter, long maxEntries) {
        this.scorer = scorer;
        this.referenceAdapter = referenceAdapter;
        this.cache = Caffeine.newBuilder().maximumSize(maxEntries).build();
    }

    /** The reference adapter (null: the base model). Its parameters change only through {@link ReferenceSync}. */
    public LoraAdapter adapter() {
        return referenceAdapter;
    }

    /** Forgets every cached score: the reference changed. */
    public void invalidate() {
        cache.invalidateAll();
    }

    /** Scores of the sequences, in order; only the ones not cached are computed, in one batched call. */
    public List<Score> get(List<Sequence> sequences) {
        Score[] out = new Score[sequences.size()];
        List<Sequence> missing = new ArrayList<>();
        List<Integer> where = new ArrayList<>();
        for (int i = 0; i < out.length; i++) {
            Sequence s = sequences.get(i);
            out[i] = cache.getIfPresent(new Key(s.ids(), s.promptLength()));
            if (out[i] == null) {
                missing.add(s);
                where.add(i);
            }
        }
        if (!missing.isEmpty()) {
            List<Score> computed = scorer.score(missing, referenceAdapter);
            for (int j = 0; j < computed.size(); j++) {
                Sequence s = missing.get(j);
                cache.put(new Key(s.ids(), s.promptLength()), computed.get(j));
                out[where.get(j)] = computed.get(j);
            }
        }
        return Arrays.asList(out);
    }
}
