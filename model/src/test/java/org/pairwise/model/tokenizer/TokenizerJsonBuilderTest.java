package org.pairwise.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Vocabularies converted to tokenizer.json behave as their native tokenizers do. */
class TokenizerJsonBuilderTest {

    private static final int T = TokenizerJsonBuilder.NORMAL;

    /**
     * A SentencePiece vocabulary where the merge with the best score ("bc") is not the one with the lowest id
     * ("ab"): SentencePiece merges "bc" first, so "abc" becomes "▁a" + "bc"; ranking merges by id would give
     * "▁" + "ab" + "c" instead.
     */
    private static String tinySentencePiece() {
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        List<Float> scores = new ArrayList<>(List.of(0f, 0f, 0f));
        List<Integer> types = new ArrayList<>(List.of(TokenizerJsonBuilder.UNKNOWN, TokenizerJsonBuilder.CONTROL,
                TokenizerJsonBuilder.CONTROL));
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
            scores.add(0f);
            types.add(TokenizerJsonBuilder.BYTE);
        }
        String[] pieces = {"\u2581", "a", "b", "c", "ab", "bc", "\u2581a"};
        float[] pieceScores = {-10, -11, -12, -13, -2, -1, -3};
        for (int i = 0; i < pieces.length; i++) {
            tokens.add(pieces[i]);
            scores.add(pieceScores[i]);
            types.add(T);
        }
        float[] s = new float[scores.size()];
        for (int i = 0; i < s.length; i++) s[i] = scores.get(i);
        return TokenizerJsonBuilder.sentencePiece(tokens, s, types.stream().mapToInt(Integer::intValue).toArray(),
                1, 2, 0);
    }

    @Test
    void sentencePieceMergesHighestScoreFirst() {
        try (Tokenizer t = Tokenizer.fromJson(tinySentencePiece(), null)) {
            int space = 259, ab = 263, bc = 264, spaceA = 265;
            assertArrayEquals(new int[] {spaceA, bc}, t.encode("abc", false));
            assertArrayEquals(new int[] {1, spaceA, bc}, t.encode("abc", true));
            assertArrayEquals(new int[] {space, ab}, t.encode("ab", false));
            assertArrayEquals(new int[] {space, 3 + 0xC3, 3 + 0xA9, spaceA}, t.encode("é a", false));
            assertEquals("é abc", t.decode(new int[] {1, space, 3 + 0xC3, 3 + 0xA9, spaceA, bc}, true));
            assertEquals("<s> abc", t.decode(new int[] {1, spaceA, bc}, false));
            assertEquals(1, t.bosId());
            assertEquals(2, t.eosId());
        }
    }

    @Test
    void unsupportedPreTokenizerIsRejected() {
        assertThrows(IllegalArgumentException.class,
                () -> TokenizerJsonBuilder.gpt2(List.of("a"), new int[] {T}, List.of(), "no-such-pre"));
    }

    @Test
    void gpt2VariantsLoadAndRoundTrip() {
        List<String> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) tokens.add(ByteLevelAlphabet.charFor(b));
        tokens.add("he");
        tokens.add("Ġhe");
        tokens.add("<|eot|>");
        int[] types = new int[tokens.size()];
        java.util.Arrays.fill(types, T);
        types[258] = TokenizerJsonBuilder.CONTROL;
        List<String> merges = List.of("h e", "Ġ he");
        for (String pre : List.of("qwen2", "llama-bpe", "default")) {
            try (Tokenizer t = Tokenizer.fromJson(TokenizerJsonBuilder.gpt2(tokens, types, merges, pre), null)) {
                assertArrayEquals(new int[] {256, 257, 258}, t.encode("he he<|eot|>", false), pre);
                assertEquals("he he", t.decode(new int[] {256, 257, 258}, true), pre);
            }
        }
        // 'ﬁ' (U+FB01) is NFC-stable, but 'e' + combining acute is composed to 'é' only by qwen2's NFC normaliser.
        try (Tokenizer qwen = Tokenizer.fromJson(TokenizerJsonBuilder.gpt2(tokens, types, merges, "qwen2"), null);
                Tokenizer gpt = Tokenizer.fromJson(TokenizerJsonBuilder.gpt2(tokens, types, merges, "default"), null)) {
            assertArrayEquals(new int[] {0xC3, 0xA9}, qwen.encode("e\u0301", false));
            assertArrayEquals(new int[] {'e', 0xCC, 0x81}, gpt.encode("e\u0301", false));
        }
    }
}
