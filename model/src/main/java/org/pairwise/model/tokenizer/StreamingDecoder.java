package org.pairwise.model.tokenizer;

import java.util.Arrays;

/**
 * Turns generated ids, one at a time, into text pieces whose concatenation equals decoding all the ids at once.
 *
 * <p>A token's text depends on its neighbours: a byte token may hold half a UTF-8 character, and SentencePiece
 * decoders drop the leading space of the first piece only. So each step decodes a short window that starts one
 * emitted token back, and emits what the new ids added to it; while the window ends in an incomplete character
 * (decoded as U+FFFD) nothing is emitted and the ids wait for the rest of their bytes.
 */
public final class StreamingDecoder {

    private static final char REPLACEMENT = '\uFFFD';

    private final Tokenizer tokenizer;
    private final boolean skipSpecialTokens;
    private int[] ids = new int[16];
    private int size;
    /** Start of the window: the ids before it are emitted and no longer influence new text. */
    private int prefixOffset;
    /** End of the emitted ids; what lies between prefixOffset and here is context only. */
    private int readOffset;

    StreamingDecoder(Tokenizer tokenizer, boolean skipSpecialTokens) {
        this.tokenizer = tokenizer;
        this.skipSpecialTokens = skipSpecialTokens;
    }

    /** Adds one id; returns the text it completes, possibly empty. */
    public String accept(int id) {
        if (size == ids.length) ids = Arrays.copyOf(ids, size * 2);
        ids[size++] = id;
        String prefix = decode(prefixOffset, readOffset);
        String full = decode(prefixOffset, size);
        if (full.length() <= prefix.length() || full.charAt(full.length() - 1) == REPLACEMENT
                || !full.startsWith(prefix)) {
            return "";
        }
        prefixOffset = readOffset;
        readOffset = size;
        return full.substring(prefix.length());
    }

    /** The text still held back at the end of generation (an incomplete character decodes as U+FFFD). */
    public String flush() {
        String prefix = decode(prefixOffset, readOffset);
        String full = decode(prefixOffset, size);
        prefixOffset = readOffset = size;
        return full.startsWith(prefix) ? full.substring(prefix.length()) : full;
    }

    /** All ids accepted so far. */
    public int[] ids() {
        return Arrays.copyOf(ids, size);
    }

    private String decode(int from, int to) {
        return from == to ? "" : tokenizer.decode(Arrays.copyOfRange(ids, from, to), skipSpecialTokens);
    }
}
