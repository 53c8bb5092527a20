package org.pairwise.model.tokenizer;

/**
 * GPT-2's byte-to-character table: byte-level BPE vocabularies spell every byte as a printable character so that
 * merges never meet whitespace or control characters. Printable Latin-1 bytes map to themselves, the other 68 bytes
 * to U+0100 upward in byte order.
 */
final class ByteLevelAlphabet {

    private static final String[] BYTE_TO_CHAR = new String[256];

    static {
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            BYTE_TO_CHAR[b] = String.valueOf((char) (printable ? b : next++));
        }
    }

    private ByteLevelAlphabet() {}

    static String charFor(int b) {
        return BYTE_TO_CHAR[b];
    }
}
