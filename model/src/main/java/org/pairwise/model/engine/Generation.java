package org.pairwise.model.engine;

/**
 * The outcome of one generation: the new token ids (an EOS that ended it included), each one's log-prob under the
 * model (temperature 1, no filtering: the number scoring would give), and why it stopped ("eos", "length", or "stopped" by the listener).
 */
public record Generation(int[] promptIds, int[] tokenIds, float[] logprobs, String finishReason) {}
