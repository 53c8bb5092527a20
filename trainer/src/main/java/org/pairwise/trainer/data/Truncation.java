package org.pairwise.trainer.data;

import java.util.Arrays;

/**
 * TRL's truncation of a tokenized preference pair, in TRL's order:
 * <ol>
 * <li>{@code max_prompt_length}: the prompt keeps its <em>last</em> tokens, whatever {@code truncation_mode} says —
 *     TRL 0.12 to 0.28 ({@code tokenize_row}: {@code prompt[-max_prompt_length:]}). TRL ≤ 0.11 let
 *     {@code truncation_mode} pick the end here; TRL ≥ 0.29 dropped the option, so it defaults to off.</li>
 * <li>{@code max_completion_length}: each completion keeps its <em>first</em> tokens (TRL 0.x; dropped in 0.29).</li>
 * <li>{@code max_length}: each sequence prompt ++ completion, chosen and rejected separately, keeps its first
 *     {@code max_length} tokens ({@code keep_start}, TRL 1.x's default) or its last ({@code keep_end}, TRL 0.x's
 *     default, deprecated in 1.x) — TRL 1.x's {@code DataCollatorForPreference}, equal per sequence to 0.x's
 *     {@code concatenated_forward}. So keep_start may cut into the completion (even all of it) and keep_end into the
 *     prompt's beginning; the two sequences of a pair may then keep different prompt tokens.</li>
 * </ol>
 * A null limit means no truncation at that stage, as TRL's {@code None}.
 */
public record Truncation(Integer maxLength, Integer maxPromptLength, Integer maxCompletionLength, Mode mode) {

    /** TRL's {@code truncation_mode}. */
    public enum Mode {
        KEEP_START("keep_start"), KEEP_END("keep_end");

        private final String trlName;

        Mode(String trlName) {
            this.trlName = trlName;
        }

        public String trlName() {
            return trlName;
        }

        public static Mode fromName(String name) {
            for (Mode m : values()) {
                if (m.trlName.equals(name)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("unknown truncation_mode '" + name + "'; valid: keep_start, keep_end");
        }

        @Override
        public String toString() {
            return trlName;
        }
    }

    /** One model input: {@code prompt ++ completion}, with the loss on the completion tokens only. */
    public record Sequence(int[] prompt, int[] completion) {
        public int length() {
            return prompt.length + completion.length;
        }

        /** prompt ++ completion. */
        public int[] ids() {
            int[] out = Arrays.copyOf(prompt, length());
            System.arraycopy(completion, 0, out, prompt.length, completion.length);
            return out;
        }
    }

    /**
     * A truncated pair; {@code id}, {@code weight} and {@code labelSmoothing} are its {@link PreferencePair}'s (the
     * weight as the trainer decayed it).
     */
    public record Pair(long id, Sequence chosen, Sequence rejected, double weight, double labelSmoothing) {
        /** A pair with no per-pair weight or label smoothing. */
        public Pair(long id, Sequence chosen, Sequence rejected) {
            this(id, chosen, rejected, PreferencePair.NO_WEIGHT, PreferencePair.NO_LABEL_SMOOTHING);
        }
    }

    public Truncation {
        positiveOrNull(maxLength, "max_length");
        positiveOrNull(maxPromptLength, "max_prompt_length");
        positiveOrNull(maxCompletionLength, "max_completion_length");
        if (mode == null) {
            throw new IllegalArgumentException("truncation_mode must be set");
        }
    }

    public Pair apply(PreferencePair e) {
        int[] prompt = e.promptIds();
        if (maxPromptLength != null && prompt.length > maxPromptLength) {
            prompt = Arrays.copyOfRange(prompt, prompt.length - maxPromptLength, prompt.length);
        }
        return new Pair(e.id(), sequence(prompt, head(e.chosenIds())), sequence(prompt, head(e.rejectedIds())),
                e.weight(), e.labelSmoothing());
    }

    private int[] head(int[] completion) {
        return maxCompletionLength != null && completion.length > maxCompletionLength
                ? Arrays.copyOf(completion, maxCompletionLength) : completion;
    }

    private Sequence sequence(int[] prompt, int[] completion) {
        int len = prompt.length + completion.length;
        if (maxLength == null || len <= maxLength) {
            return new Sequence(prompt, completion);
        }
        int p = prompt.length;
        if (mode == Mode.KEEP_START) {  // keep ids[0, maxLength)
            int keptPrompt = Math.min(p, maxLength);
            return new Sequence(Arrays.copyOf(prompt, keptPrompt), Arrays.copyOf(completion, maxLength - keptPrompt));
        }
        int from = len - maxLength;  // keep ids[from, len)
        return new Sequence(Arrays.copyOfRange(prompt, Math.min(from, p), p),
                Arrays.copyOfRange(completion, Math.max(0, from - p), completion.length));
    }

    private static void positiveOrNull(Integer v, String field) {
        if (v != null && v < 1) {
            throw new IllegalArgumentException(field + " must be >= 1 or null (no truncation), got " + v);
        }
    }
}
