package org.pairwise.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** TRL's truncation stages on a small hand-made pair: prompt 1..6, chosen 11..14, rejected 21..22. */
class TruncationTest {
    private static final PreferencePair EX = PreferencePair.of(3, "line 3", new int[] {1, 2, 3, 4, 5, 6},
            new int[] {11, 12, 13, 14}, new int[] {21, 22}, 0);

    private static Truncation.Pair apply(Integer maxLength, Integer maxPrompt, Integer maxCompletion,
                                         Truncation.Mode mode) {
        return new Truncation(maxLength, maxPrompt, maxCompletion, mode).apply(EX);
    }

    private static void check(Truncation.Sequence s, int[] prompt, int[] completion) {
        assertArrayEquals(prompt, s.prompt(), "prompt");
        assertArrayEquals(completion, s.completion(), "completion");
    }

    @Test
    void noLimitsKeepEverything() {
        Truncation.Pair p = apply(null, null, null, Truncation.Mode.KEEP_START);
        check(p.chosen(), new int[] {1, 2, 3, 4, 5, 6}, new int[] {11, 12, 13, 14});
        check(p.rejected(), new int[] {1, 2, 3, 4, 5, 6}, new int[] {21, 22});
        assertArrayEquals(new int[] {1, 2, 3, 4, 5, 6, 21, 22}, p.rejected().ids());
    }

    @Test
    void maxPromptLengthKeepsThePromptEndInBothModes() {
        for (Truncation.Mode mode : Truncation.Mode.values()) {
            Truncation.Pair p = apply(null, 4, null, mode);
            check(p.chosen(), new int[] {3, 4, 5, 6}, new int[] {11, 12, 13, 14});
            check(p.rejected(), new int[] {3, 4, 5, 6}, new int[] {21, 22});
        }
    }

    @Test
    void maxCompletionLengthKeepsTheCompletionStart() {
        Truncation.Pair p = apply(null, null, 3, Truncation.Mode.KEEP_END);
        check(p.chosen(), new int[] {1, 2, 3, 4, 5, 6}, new int[] {11, 12, 13});
        check(p.rejected(), new int[] {1, 2, 3, 4, 5, 6}, new int[] {21, 22});
    }

    @Test
    void keepStartCutsTheSequenceTail() {
        Truncation.Pair p = apply(8, null, null, Truncation.Mode.KEEP_START);
        check(p.chosen(), new int[] {1, 2, 3, 4, 5, 6}, new int[] {11, 12});  // 10 tokens → first 8
        check(p.rejected(), new int[] {1, 2, 3, 4, 5, 6}, new int[] {21, 22});  // exactly 8: untouched
        Truncation.Pair q = apply(5, null, null, Truncation.Mode.KEEP_START);
        check(q.chosen(), new int[] {1, 2, 3, 4, 5}, new int[] {});  // the prompt alone fills max_length
        check(q.rejected(), new int[] {1, 2, 3, 4, 5}, new int[] {});
    }

    @Test
    void keepEndCutsTheSequenceHead() {
        Truncation.Pair p = apply(8, null, null, Truncation.Mode.KEEP_END);
        check(p.chosen(), new int[] {3, 4, 5, 6}, new int[] {11, 12, 13, 14});
        check(p.rejected(), new int[] {1, 2, 3, 4, 5, 6}, new int[] {21, 22});
        Truncation.Pair q = apply(3, null, null, Truncation.Mode.KEEP_END);
        check(q.chosen(), new int[] {}, new int[] {12, 13, 14});  // longer completion than max_length
        check(q.rejected(), new int[] {6}, new int[] {21, 22});
    }

    @Test
    void stagesApplyInTrlOrder() {
        // prompt → 3..6; chosen → 11..13 (7 tokens > 6 → keep first 6); rejected → 6 tokens, untouched.
        Truncation.Pair p = apply(6, 4, 3, Truncation.Mode.KEEP_START);
        check(p.chosen(), new int[] {3, 4, 5, 6}, new int[] {11, 12});
        check(p.rejected(), new int[] {3, 4, 5, 6}, new int[] {21, 22});
        assertTrue(p.id() == 3);
    }

    @Test
    void nonPositiveLimitNamesItsField() {
        String msg = assertThrows(IllegalArgumentException.class,
                () -> new Truncation(0, null, null, Truncation.Mode.KEEP_START)).getMessage();
        assertTrue(msg.startsWith("max_length"), msg);
        msg = assertThrows(IllegalArgumentException.class, () -> Truncation.Mode.fromName("left")).getMessage();
        assertTrue(msg.contains("keep_start"), msg);
    }
}
