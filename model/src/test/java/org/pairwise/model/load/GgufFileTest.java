package org.pairwise.model.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.pairwise.accel.DType;

/** GGUF files built byte by byte, for the value and tensor types the stories file does not use. */
class GgufFileTest {
    @Test
    void everyValueTypeAndQ8F16TensorsParse() {
        Bytes b = header(2, 2, 7);
        b.str("u8").u32(0).u8(200);
        b.str("i16").u32(3).u16(-5);
        b.str("u32").u32(4).u32(4_000_000_000L);
        b.str("f64").u32(12).f64(0.25);
        b.str("flag").u32(7).u8(1);
        b.str("names").u32(9).u32(8).u64(2).str("a").str("béta");
        b.str("general.alignment").u32(4).u32(64);
        // Q8_0 [2 rows, 32 cols]: GGUF lists ne0 = 32 (cols) first.
        b.str("q").u32(2).u64(32).u64(2).u32(8).u64(0);
        b.str("h").u32(1).u64(3).u32(1).u64(128);
        b.align(64);
        long dataStart = b.size();
        for (int row = 0; row < 2; row++) {
            b.u16(Float.floatToFloat16(0.5f * (row + 1)));
            for (int j = 0; j < 32; j++) {
                b.u8(j - 16);
            }
        }
        b.padTo(dataStart + 128);
        b.u16(Float.floatToFloat16(1.5f)).u16(Float.floatToFloat16(-2f)).u16(Float.floatToFloat16(0.125f));

        GgufFile g = GgufFile.parse(MemorySegment.ofArray(b.toArray()), "built", null);
        assertEquals(2, g.version());
        assertEquals(64, g.alignment());
        assertEquals(dataStart, g.dataOffset());
        assertEquals(200, g.integer("u8"));
        assertEquals(-5, g.integer("i16"));
        assertEquals(4_000_000_000L, g.metadata().get("u32"));
        assertEquals(0.25, g.number("f64", 0));
        assertEquals(true, g.metadata().get("flag"));
        assertEquals(List.of("a", "béta"), g.strings("names"));
        TensorData q = g.tensors().get("q");
        assertEquals(DType.Q8_0, q.dtype());
        assertArrayEquals(new long[] {2, 32}, q.shape());
        float[] v = Tensors.toFloats(q);
        assertEquals(-8f, v[0]);
        assertEquals(15f, v[63]);
        assertArrayEquals(new float[] {1.5f, -2f, 0.125f}, Tensors.toFloats(g.tensors().get("h")));
    }

    @Test
    void unsupportedTensorTypeAndVersionAreNamed() {
        Bytes b = header(3, 1, 0);
        b.str("k").u32(2).u64(256).u64(1).u32(12).u64(0);
        b.align(32);
        b.zeros(256);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GgufFile.parse(MemorySegment.ofArray(b.toArray()), "k4", null));
        assertTrue(e.getMessage().contains("tensor k has type Q4_K (12)"), e.getMessage());

        Bytes v1 = header(1, 0, 0);
        v1.zeros(16);
        e = assertThrows(IllegalArgumentException.class,
                () -> GgufFile.parse(MemorySegment.ofArray(v1.toArray()), "old", null));
        assertTrue(e.getMessage().contains("GGUF version 1 is not supported"), e.getMessage());
    }

    @Test
    void nonLlamaArchitectureIsRefused() {
        Bytes b = header(3, 0, 1);
        b.str("general.architecture").u32(8).str("phi3");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GgufModel.fromGguf(GgufFile.parse(MemorySegment.ofArray(b.toArray()), "phi", null), "phi"));
        assertEquals("phi: GGUF architecture phi3 is not supported (llama is)", e.getMessage());
    }

    @Test
    void ggufNamesMapToHfNames() {
        assertEquals("model.embed_tokens.weight", GgufModel.hfName("token_embd.weight"));
        assertEquals("model.layers.12.self_attn.o_proj.weight", GgufModel.hfName("blk.12.attn_output.weight"));
        assertEquals("model.layers.0.post_attention_layernorm.weight", GgufModel.hfName("blk.0.ffn_norm.weight"));
        assertEquals("model.layers.3.mlp.down_proj.weight", GgufModel.hfName("blk.3.ffn_down.weight"));
        assertEquals("lm_head.weight", GgufModel.hfName("output.weight"));
        assertEquals("model.norm.weight", GgufModel.hfName("output_norm.weight"));
    }

    private static Bytes header(int version, long tensors, long kvs) {
        return new Bytes().raw("GGUF".getBytes(StandardCharsets.US_ASCII)).u32(version).u64(tensors).u64(kvs);
    }

    /** Little-endian GGUF primitives. */
    private static final class Bytes {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Bytes raw(byte[] b) {
            out.writeBytes(b);
            return this;
        }

        Bytes u8(int v) {
            out.write(v);
            return this;
        }

        Bytes u16(int v) {
            return raw(ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) v).array());
        }

        Bytes u32(long v) {
            return raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
        }

        Bytes u64(long v) {
            return raw(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
        }

        Bytes f64(double v) {
            return raw(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(v).array());
        }

        Bytes str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            return u64(b.length).raw(b);
        }

        Bytes zeros(int n) {
            return raw(new byte[n]);
        }

        Bytes align(long alignment) {
            return padTo((size() + alignment - 1) / alignment * alignment);
        }

        Bytes padTo(long offset) {
            return zeros((int) (offset - size()));
        }

        long size() {
            return out.size();
        }

        byte[] toArray() {
            return out.toByteArray();
        }
    }
}
