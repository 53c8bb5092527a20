package org.pairwise.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The demo model's tokenizer: ids are the UTF-8 bytes, 256 is BOS, 257 EOS. */
class ByteLevelTokenizerTest {

    private static Tokenizer tokenizer;

    @BeforeAll
    static void build() {
        tokenizer = Tokenizer.fromJson(TokenizerJsonBuilder.byteLevel(), null);
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    private static int[] bytes(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[b.length];
        for (int i = 0; i < b.length; i++) ids[i] = b[i] & 0xFF;
        return ids;
    }

    @Test
    void idsAreTheUtf8Bytes() {
        String text = "Héllo wörld 🦙\n\t  end";
        assertArrayEquals(bytes(text), tokenizer.encode(text, false));
        int[] withBos = tokenizer.encode(text, true);
        assertEquals(256, withBos[0]);
        assertEquals(bytes(text).length + 1, withBos.length);
        assertEquals(text, tokenizer.decode(withBos, true));
        assertEquals(258, tokenizer.vocabSize());
        assertEquals(256, tokenizer.bosId());
        assertEquals(257, tokenizer.eosId());
        assertEquals("<s>", tokenizer.tokenText(256));
    }

    @Test
    void randomUnicodeRoundTrips() {
        Random random = new Random(42);
        for (int round = 0; round < 200; round++) {
            StringBuilder sb = new StringBuilder();
            int n = random.nextInt(40);
            for (int i = 0; i < n; i++) {
                int cp;
                do {
                    cp = switch (random.nextInt(4)) {
                        case 0 -> random.nextInt(0x80);
                        case 1 -> 0x80 + random.nextInt(0x780);
                        case 2 -> 0x800 + random.nextInt(0xF800);
                        default -> 0x10000 + random.nextInt(0x100000);
                    };
                } while (Character.getType(cp) == Character.SURROGATE || Character.getType(cp) == Character.UNASSIGNED);
                sb.appendCodePoint(cp);
            }
            String text = sb.toString();
            int[] ids = tokenizer.encode(text, false);
            assertArrayEquals(bytes(text), ids, () -> "bytes of " + text.codePoints().boxed().toList());
            assertEquals(text, tokenizer.decode(ids, false));
        }
    }

    @Test
    void streamingWaitsForWholeCharacters() {
        String text = "a🦙é世";
        StreamingDecoder stream = tokenizer.streamingDecoder(true);
        StringBuilder out = new StringBuilder();
        int emissions = 0;
        for (int id : tokenizer.encode(text, true)) {
            String piece = stream.accept(id);
            assertTrue(piece.indexOf('\uFFFD') < 0, piece);
            if (!piece.isEmpty()) emissions++;
            out.append(piece);
        }
        assertEquals("", stream.flush());
        assertEquals(text, out.toString());
        assertEquals(4, emissions, "one emission per character");
    }

    @Test
    void outOfRangeIdIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> tokenizer.decode(new int[] {258}, false));
        assertThrows(IllegalArgumentException.class, () -> tokenizer.tokenText(-1));
    }
}
