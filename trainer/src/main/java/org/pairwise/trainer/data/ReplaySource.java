package org.pairwise.trainer.data;

import java.util.List;
import java.util.Map;

/**
 * Where a replay buffer's pairs come from: pairs trained on in earlier optimizer steps, which continual training
 * mixes into each new step ({@code replay_pairs_per_step}) so that old votes keep a say. The server implements it
 * over its preference store (the votes it has recorded as trained); {@link InMemoryReplay} is the seeded in-memory
 * one for tests and for a trainer without a store.
 *
 * <p>Contract: {@link #draw} depends only on {@link #state()} (and, for a store, on which votes it has recorded as
 * trained), so a source restored from a checkpoint's state draws exactly what the saved one would have drawn; a
 * restart then resumes exactly. The trainer calls {@link #draw} before each step and {@link #trained} after it, then
 * saves {@link #state()} with its checkpoint. One trainer thread calls it.
 */
public interface ReplaySource {
    /**
     * Up to n distinct pairs trained on in earlier steps, to add to the step about to run (fewer, or none, while
     * fewer have been trained). Each pair keeps its own id, policy version, weight and label smoothing: the trainer
     * applies vote_decay_gamma by the pair's age as for any pair.
     */
    List<PreferencePair> draw(int n);

    /** The new pairs the step just taken trained on (not the replayed ones), in training order. */
    void trained(List<PreferencePair> pairs);

    /**
     * Everything that decides future draws, as JSON values (numbers, strings, booleans, null, lists and maps of
     * them), for the checkpoint's trainer_state.json.
     */
    Map<String, Object> state();

    /** Continues from what {@link #state()} returned, as read back from JSON (integers may come back as Integer). */
    void restore(Map<String, Object> state);
}
