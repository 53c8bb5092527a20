package org.pairwise.model.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.accel.DType;

class SafetensorsTest {
    @TempDir
    Path dir;

    private static final float[] EXACT = {0f, 1f, -2.5f, 0.375f, 1024f, -0.0078125f};

    @Test
    void writtenTensorsOfEveryDtypeReadBackExactly() throws IOException {
        Path file = dir.resolve("t.safetensors");
        SafetensorsWriter.write(file, List.of(
                Tensors.of("a.f32", DType.F32, new long[] {2, 3}, new float[] {1.1f, -2.2f, 3.3e-7f, 4e30f, 0f, -1f}),
                Tensors.of("b.bf16", DType.BF16, new long[] {6}, EXACT),
                Tensors.of("c.f16", DType.F16, new long[] {3, 2}, EXACT)), Map.of("format", "pt"));
        try (Arena arena = Arena.ofShared()) {
            Map<String, TensorData> t = Safetensors.read(file, arena);
            assertEquals(3, t.size());
            assertEquals(DType.F32, t.get("a.f32").dtype());
            assertArrayEquals(new long[] {2, 3}, t.get("a.f32").shape());
            assertArrayEquals(new float[] {1.1f, -2.2f, 3.3e-7f, 4e30f, 0f, -1f}, Tensors.toFloats(t.get("a.f32")));
            assertEquals(DType.BF16, t.get("b.bf16").dtype());
            assertArrayEquals(EXACT, Tensors.toFloats(t.get("b.bf16")));
            assertEquals(DType.F16, t.get("c.f16").dtype());
            assertArrayEquals(new long[] {3, 2}, t.get("c.f16").shape());
            assertArrayEquals(EXACT, Tensors.toFloats(t.get("c.f16")));
            assertTrue(t.get("a.f32").data().isMapped(), "tensors are slices of the mapped file, not heap copies");
        }
    }

    @Test
    void bf16RoundsToNearestEven() {
        // 1 + 2^-8 lies halfway between two BF16 values; ties go to the even mantissa (1.0).
        assertEquals(1f, Tensors.toFloats(Tensors.of("x", DType.BF16, new long[] {1}, new float[] {1f + 1f / 256}))[0]);
        assertEquals(1f + 1f / 64, Tensors.toFloats(
                Tensors.of("x", DType.BF16, new long[] {1}, new float[] {1f + 1f / 64 + 1f / 1024}))[0]);
    }

    @Test
    void headerIsPaddedWithSpacesToEightBytes() throws IOException {
        Path file = dir.resolve("p.safetensors");
        SafetensorsWriter.write(file, List.of(Tensors.of("w", DType.F32, new long[] {1}, new float[] {7f})), Map.of());
        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertEquals("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", header.stripTrailing());
        assertTrue(header.endsWith(" ") || header.length() % 8 == 0);
        assertEquals(8 + n + 4, bytes.length);
    }

    @Test
    void handWrittenFileParses() {
        // Exactly what the Python library writes for {"b": tensor([[1., 2.]]), "a": tensor([3.], dtype=bfloat16)}.
        String json = "{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[8,10]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]}}";
        ByteBuffer buf = ByteBuffer.allocate(8 + json.length() + 10).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(json.length()).put(json.getBytes(StandardCharsets.US_ASCII)).putFloat(1f).putFloat(2f)
                .putShort((short) 0x4040);
        Map<String, TensorData> t = Safetensors.parse(MemorySegment.ofArray(buf.array()), "hand");
        assertEquals(List.of("a", "b"), List.copyOf(t.keySet()));
        assertArrayEquals(new float[] {1f, 2f}, Tensors.toFloats(t.get("b")));
        assertArrayEquals(new float[] {3f}, Tensors.toFloats(t.get("a")));
        assertArrayEquals(new long[] {1, 2}, t.get("b").shape());
    }

    @Test
    void malformedFilesFailClearly() {
        assertMalformed("not a safetensors file", raw(1L << 40, "{}"));
        assertMalformed("malformed safetensors header", file("{\"a\": {\"dtype\": \"F32\""));
        assertMalformed("dtype I64", file("{\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8));
        assertMalformed("needs 8", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 8));
        assertMalformed("outside", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4));
        assertMalformed("overlap", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8));
        assertMalformed("data_offsets", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8));
    }

    @Test
    void shardedCheckpointReadsThroughItsIndex() throws IOException {
        List<TensorData> one = List.of(Tensors.of("x", DType.F32, new long[] {2}, new float[] {1f, 2f}));
        List<TensorData> two = List.of(Tensors.of("y", DType.BF16, new long[] {1, 3}, new float[] {3f, 4f, 5f}),
                Tensors.of("z", DType.F16, new long[] {1}, new float[] {6f}));
        SafetensorsWriter.writeSharded(dir, List.of(one, two), Map.of("format", "pt"));
        assertTrue(Files.exists(dir.resolve("model-00001-of-00002.safetensors")));
        assertTrue(Files.exists(dir.resolve("model-00002-of-00002.safetensors")));
        try (Arena arena = Arena.ofShared()) {
            Map<String, TensorData> t = Safetensors.readModel(dir, arena);
            assertEquals(3, t.size());
            assertArrayEquals(new float[] {1f, 2f}, Tensors.toFloats(t.get("x")));
            assertArrayEquals(new float[] {3f, 4f, 5f}, Tensors.toFloats(t.get("y")));
            assertArrayEquals(new float[] {6f}, Tensors.toFloats(t.get("z")));
        }
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        try (Arena arena = Arena.ofShared()) {
            IOException e = assertThrows(IOException.class, () -> Safetensors.readModel(dir, arena));
            assertTrue(e.getMessage().contains("model-00002-of-00002.safetensors"), e.getMessage());
        }
    }

    @Test
    void directoryWithoutSafetensorsSaysSo() {
        IOException e = assertThrows(IOException.class, () -> Safetensors.readModel(dir, Arena.global()));
        assertTrue(e.getMessage().contains("no model.safetensors"), e.getMessage());
    }

    private static void assertMalformed(String expected, MemorySegment file) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Safetensors.parse(file, "f"));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    private static MemorySegment file(String json, int dataBytes) {
        return raw(json.length(), json, dataBytes);
    }

    private static MemorySegment file(String json) {
        return raw(json.length(), json, 0);
    }

    private static MemorySegment raw(long declared, String json) {
        return raw(declared, json, 0);
    }

    private static MemorySegment raw(long declared, String json, int dataBytes) {
        ByteBuffer buf = ByteBuffer.allocate(8 + json.length() + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(declared).put(json.getBytes(StandardCharsets.US_ASCII));
        return MemorySegment.ofArray(buf.array());
    }
}
