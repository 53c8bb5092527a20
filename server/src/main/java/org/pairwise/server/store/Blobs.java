package org.pairwise.server.store;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Token ids and log-probs as BLOBs of little-endian int32 / float32: four bytes a value instead of a JSON number, and
 * still plain to read from the sqlite3 CLI ({@code length(a_token_ids)/4} is the token count). A null array stays SQL
 * NULL; an empty one is a zero-length BLOB.
 */
final class Blobs {
    private Blobs() {}

    static byte[] ints(int[] values) {
        if (values == null) {
            return null;
        }
        ByteBuffer buf = ByteBuffer.allocate(values.length * Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buf.asIntBuffer().put(values);
        return buf.array();
    }

    static byte[] floats(float[] values) {
        if (values == null) {
            return null;
        }
        ByteBuffer buf = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(values);
        return buf.array();
    }

    static int[] ints(byte[] blob) {
        if (blob == null) {
            return null;
        }
        checkLength(blob);
        int[] out = new int[blob.length / Integer.BYTES];
        ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(out);
        return out;
    }

    static float[] floats(byte[] blob) {
        if (blob == null) {
            return null;
        }
        checkLength(blob);
        float[] out = new float[blob.length / Float.BYTES];
        ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    private static void checkLength(byte[] blob) {
        if (blob.length % 4 != 0) {
            throw new IllegalStateException("corrupt array BLOB: " + blob.length + " bytes is not a multiple of 4");
        }
    }
}
