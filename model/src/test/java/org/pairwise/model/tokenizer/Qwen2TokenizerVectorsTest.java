package org.pairwise.model.tokenizer;

import org.pairwise.model.SharedModels;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Qwen2 tokenizer assembled from vocab.json + merges.txt reproduces llama.cpp's Qwen2 test vectors, which
 * llama.cpp generated from the Hugging Face tokenizer itself.
 */
class Qwen2TokenizerVectorsTest {

    private static final String SEPARATOR = "\n__ggml_vocab_test__\n";
    private static Tokenizer tokenizer;
    private static Path dir;

    @BeforeAll
    static void assemble() {
        dir = SharedModels.require("qwen2.5-tokenizer");
        String json = TokenizerJsonBuilder.vocabAndMerges(dir.resolve("vocab.json"), dir.resolve("merges.txt"), "qwen2",
                List.of(new TokenizerJsonBuilder.AddedToken(151643, "<|endoftext|>", true),
                        new TokenizerJsonBuilder.AddedToken(151644, "<|im_start|>", true),
                        new TokenizerJsonBuilder.AddedToken(151645, "<|im_end|>", true)));
        tokenizer = Tokenizer.fromJson(json, null);
    }

    @AfterAll
    static void close() {
        if (tokenizer != null) tokenizer.close();
    }

    /** Splits .inp as llama.cpp's test-tokenizer-0 does: on the separator, with the file ending in one. */
    static List<String> inputs(String raw) {
        List<String> items = new ArrayList<>();
        int pos = 0;
        while (pos < raw.length()) {
            int next = raw.indexOf(SEPARATOR, pos);
            if (next < 0) {
                items.add(raw.substring(pos));
                break;
            }
            items.add(raw.substring(pos, next));
            pos = next + SEPARATOR.length();
        }
        return items;
    }

    @Test
    void everyLlamaCppVectorMatches() throws IOException {
        List<String> inputs = inputs(Files.readString(dir.resolve("ggml-vocab-qwen2.gguf.inp")));
        List<String> expected = Files.readAllLines(dir.resolve("ggml-vocab-qwen2.gguf.out"), StandardCharsets.UTF_8);
        assertEquals(expected.size(), inputs.size(), "one .out line per .inp item");
        assertTrue(inputs.size() >= 46, "the vector file is complete");
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            int[] want = expected.get(i).isBlank() ? new int[0]
                    : Arrays.stream(expected.get(i).trim().split(" ")).mapToInt(Integer::parseInt).toArray();
            int[] got = tokenizer.encode(inputs.get(i), false);
            if (!Arrays.equals(want, got)) {
                failures.add("#" + i + " " + escape(inputs.get(i)) + ": want " + Arrays.toString(want)
                        + " got " + Arrays.toString(got));
            }
        }
        assertEquals(List.of(), failures);
    }

    @Test
    void decodeInvertsEncode() throws IOException {
        for (String s : inputs(Files.readString(dir.resolve("ggml-vocab-qwen2.gguf.inp")))) {
            assertEquals(s, tokenizer.decode(tokenizer.encode(s, false), false), () -> "round trip of " + escape(s));
        }
    }

    @Test
    void specialTokensAreSingleIdsAndNoBosIsAdded() {
        assertArrayEquals(new int[] {151644, 872, 198, 9707, 151645},
                tokenizer.encode("<|im_start|>user\nHello<|im_end|>", true));
        int[] chat = tokenizer.encode("<|im_start|>user\nHello<|im_end|>", false);
        assertEquals("user\nHello", tokenizer.decode(chat, true));
        assertEquals(151646, tokenizer.vocabSize());
        assertEquals("<|im_end|>", tokenizer.tokenText(151645));
        assertEquals("Ġworld", tokenizer.tokenText(1879));
        assertEquals(-1, tokenizer.bosId());
        assertEquals(151643, tokenizer.eosId());
    }

    @Test
    void longInputIsNeitherTruncatedNorPadded() {
        String text = "hello" + " hello".repeat(1999);
        int[] ids = tokenizer.encode(text, false);
        assertEquals(2000, ids.length);
        assertEquals(text, tokenizer.decode(ids, false));
        assertEquals(1, tokenizer.encode("hello", false).length);
    }

    @Test
    void streamingDecoderNeverSplitsACharacter() {
        String text = "Hi 🦙 naïve 世界, ok";
        StreamingDecoder stream = tokenizer.streamingDecoder(false);
        StringBuilder out = new StringBuilder();
        for (int id : tokenizer.encode(text, false)) {
            String piece = stream.accept(id);
            assertTrue(piece.indexOf('\uFFFD') < 0, () -> "emitted a broken character: " + escape(piece));
            out.append(piece);
        }
        out.append(stream.flush());
        assertEquals(text, out.toString());
    }

    static String escape(String s) {
        return "\"" + s.replace("\n", "\\n").replace("\t", "\\t") + "\"";
    }
}
