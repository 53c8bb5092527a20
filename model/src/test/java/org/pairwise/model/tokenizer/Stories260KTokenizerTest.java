package org.pairwise.model.tokenizer;

import org.pairwise.model.SharedModels;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * stories260K's llama2.c tokenizer, converted to tokenizer.json, encodes exactly as llama2.c's own {@code encode}
 * does (re-implemented below from its description, over the raw tok512.bin strings) and decodes the model's
 * reference greedy output to Karpathy's documented story.
 */
class Stories260KTokenizerTest {

    private static final int VOCAB = 512;
    /** The first 40 greedy ids after BOS, from SOURCE.md. */
    private static final int[] GREEDY = {
        403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337,
        410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394, 261, 370, 432, 352
    };

    private static Path bin;
    private static Tokenizer tokenizer;

    @BeforeAll
    static void load() {
        bin = SharedModels.require("stories260K/tok512.bin");
        tokenizer = Tokenizer.fromJson(TokenizerJsonBuilder.llama2c(bin, VOCAB), null);
    }

    @AfterAll
    static void close() {
        if (tokenizer != null) tokenizer.close();
    }

    @Test
    void encodesLikeLlama2c() throws IOException {
        Llama2cReference reference = new Llama2cReference(bin, VOCAB);
        List<String> texts = List.of(
                "Once upon a time, there was a little girl named Lily.",
                "Lily and Tom went to the park. They played with a big red ball!",
                "She said, \"I love you, Mom.\"",
                "two  spaces and   three",
                " leading space",
                "trailing spaces  ",
                "tab\there\nnew line",
                "naïve café",
                "日本語のテキスト",
                "emoji 🦙 and 😀!",
                "x",
                "The end.");
        for (String text : texts) {
            int[] want = reference.encode(text);
            assertArrayEquals(want, tokenizer.encode(text, false), () -> "encoding of \"" + text + "\"");
            int[] withBos = new int[want.length + 1];
            withBos[0] = 1;
            System.arraycopy(want, 0, withBos, 1, want.length);
            assertArrayEquals(withBos, tokenizer.encode(text, true), () -> "BOS + encoding of \"" + text + "\"");
            assertEquals(text, tokenizer.decode(want, false), () -> "round trip of \"" + text + "\"");
        }
        assertArrayEquals(new int[0], tokenizer.encode("", false));
        assertArrayEquals(new int[] {1}, tokenizer.encode("", true));
        // The byte fallback must actually be exercised: CJK characters are not pieces of this 512-token vocabulary.
        int[] cjk = tokenizer.encode("日本", false);
        assertEquals(7, cjk.length);
        assertTrue(Arrays.stream(cjk).skip(1).allMatch(id -> id >= 3 && id < 259));
    }

    @Test
    void decodesTheReferenceGreedyStory() {
        String story = tokenizer.decode(GREEDY, true);
        assertTrue(story.startsWith("Once upon a time, there was a little girl named Lily. She loved to play outside"),
                story);
        int[] withBos = new int[GREEDY.length + 1];
        withBos[0] = 1;
        System.arraycopy(GREEDY, 0, withBos, 1, GREEDY.length);
        assertEquals(story, tokenizer.decode(withBos, true));

        StreamingDecoder stream = tokenizer.streamingDecoder(true);
        StringBuilder streamed = new StringBuilder();
        for (int id : withBos) streamed.append(stream.accept(id));
        streamed.append(stream.flush());
        assertEquals(story, streamed.toString());
    }

    @Test
    void vocabularyMetadata() {
        assertEquals(VOCAB, tokenizer.vocabSize());
        assertEquals(1, tokenizer.bosId());
        assertEquals(2, tokenizer.eosId());
        assertEquals("<unk>", tokenizer.tokenText(0));
        assertEquals("<s>", tokenizer.tokenText(1));
        assertEquals("<0x41>", tokenizer.tokenText(3 + 0x41));
        assertEquals("\u2581Once", tokenizer.tokenText(403));
    }

    @Test
    void truncatedFileIsRejected(@TempDir Path tmp) throws IOException {
        Path cut = tmp.resolve("cut.bin");
        byte[] all = Files.readAllBytes(bin);
        Files.write(cut, Arrays.copyOf(all, all.length / 2));
        assertThrows(IllegalArgumentException.class, () -> TokenizerJsonBuilder.llama2c(cut, VOCAB));
    }

    /** llama2.c's encode: dummy-prefix space, code points or byte fallback, then best-score pair merges. */
    static final class Llama2cReference {
        final String[] vocab;
        final float[] scores;
        final Map<String, Integer> ids = new HashMap<>();

        Llama2cReference(Path bin, int size) throws IOException {
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(bin)).order(ByteOrder.LITTLE_ENDIAN);
            b.getInt();
            vocab = new String[size];
            scores = new float[size];
            for (int i = 0; i < size; i++) {
                scores[i] = b.getFloat();
                byte[] s = new byte[b.getInt()];
                b.get(s);
                vocab[i] = new String(s, StandardCharsets.UTF_8);
                ids.putIfAbsent(vocab[i], i);
            }
        }

        int[] encode(String text) {
            List<Integer> tokens = new ArrayList<>();
            if (!text.isEmpty()) tokens.add(ids.get(" "));
            text.codePoints().forEach(cp -> {
                Integer id = ids.get(Character.toString(cp));
                if (id != null) {
                    tokens.add(id);
                } else {
                    for (byte x : Character.toString(cp).getBytes(StandardCharsets.UTF_8)) tokens.add((x & 0xFF) + 3);
                }
            });
            while (true) {
                float best = Float.NEGATIVE_INFINITY;
                int bestId = -1, bestAt = -1;
                for (int i = 0; i + 1 < tokens.size(); i++) {
                    Integer merged = ids.get(vocab[tokens.get(i)] + vocab[tokens.get(i + 1)]);
                    if (merged != null && scores[merged] > best) {
                        best = scores[merged];
                        bestId = merged;
                        bestAt = i;
                    }
                }
                if (bestAt < 0) break;
                tokens.set(bestAt, bestId);
                tokens.remove(bestAt + 1);
            }
            return tokens.stream().mapToInt(Integer::intValue).toArray();
        }
    }
}
