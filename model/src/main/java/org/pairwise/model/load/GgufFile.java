package org.pairwise.model.load;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.pairwise.accel.DType;

/**
 * A GGUF (v2/v3) file, memory-mapped: the metadata key/values and the tensors, under their GGUF names
 * ({@code blk.0.attn_q.weight}) with shapes converted to HF order (outermost first; GGUF lists ne[0], the innermost
 * dimension, first). Layout: magic "GGUF", u32 version, u64 tensor count, u64 kv count, the kvs, the tensor infos,
 * padding to {@code general.alignment} (32 by default), then tensor data at offsets relative to that point.
 *
 * <p>Metadata values are Java objects: integers as Integer (Long for u32/u64/i64), floats as Float/Double, bool,
 * String, and arrays as {@code List<Object>} of those.
 */
public final class GgufFile implements AutoCloseable {
    private static final int MAGIC = 0x46554747; // "GGUF" read little-endian
    private static final String[] TYPE_NAMES = {"F32", "F16", "Q4_0", "Q4_1", "Q4_2", "Q4_3", "Q5_0", "Q5_1", "Q8_0",
        "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL",
        "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ1_M", "BF16"};

    private final String source;
    private final int version;
    private final Map<String, Object> metadata;
    private final Map<String, TensorData> tensors;
    private final long alignment;
    private final long dataOffset;
    private final Arena arena;

    private GgufFile(String source, int version, Map<String, Object> metadata, Map<String, TensorData> tensors,
            long alignment, long dataOffset, Arena arena) {
        this.source = source;
        this.version = version;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.tensors = Collections.unmodifiableMap(tensors);
        this.alignment = alignment;
        this.dataOffset = dataOffset;
        this.arena = arena;
    }

    /** Maps the file into a new shared arena, closed by {@link #close()}. */
    public static GgufFile open(Path file) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            return parse(seg, file.toString(), arena);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Parses a whole file's bytes; tensors are slices of {@code file}; {@code arena} may be null (not owned). */
    public static GgufFile parse(MemorySegment file, String source, Arena arena) {
        Cursor in = new Cursor(file, source);
        try {
            if (file.byteSize() < 24 || in.u32() != MAGIC) {
                throw new IllegalArgumentException(source + ": not a GGUF file (no GGUF magic)");
            }
            int version = in.u32();
            if (version != 2 && version != 3) {
                throw new IllegalArgumentException(source + ": GGUF version " + version + " is not supported (2 and 3 are)");
            }
            long tensorCount = in.count("tensor count");
            long kvCount = in.count("metadata count");
            Map<String, Object> metadata = new LinkedHashMap<>();
            for (long i = 0; i < kvCount; i++) {
                String key = in.string();
                metadata.put(key, in.value(in.u32()));
            }
            long alignment = metadata.containsKey("general.alignment")
                    ? ((Number) metadata.get("general.alignment")).longValue() : 32;
            if (alignment <= 0 || Long.bitCount(alignment) != 1) {
                throw new IllegalArgumentException(source + ": general.alignment " + alignment + " is not a power of two");
            }
            List<Object[]> infos = new ArrayList<>();
            for (long i = 0; i < tensorCount; i++) {
                String name = in.string();
                int nDims = in.u32();
                if (nDims < 1 || nDims > 4) {
                    throw new IllegalArgumentException(source + ": tensor " + name + " has " + nDims + " dimensions");
                }
                long[] shape = new long[nDims];
                for (int d = 0; d < nDims; d++) {
                    shape[nDims - 1 - d] = in.u64();
                }
                infos.add(new Object[] {name, shape, in.u32(), in.u64()});
            }
            long dataOffset = (in.pos + alignment - 1) / alignment * alignment;
            Map<String, TensorData> tensors = new LinkedHashMap<>();
            for (Object[] info : infos) {
                TensorData t = tensor(source, file, dataOffset, alignment, (String) info[0], (long[]) info[1],
                        (int) info[2], (long) info[3]);
                if (tensors.put(t.name(), t) != null) {
                    throw new IllegalArgumentException(source + ": tensor " + t.name() + " appears twice");
                }
            }
            return new GgufFile(source, version, metadata, tensors, alignment, dataOffset, arena);
        } catch (IndexOutOfBoundsException e) {
            throw new IllegalArgumentException(source + ": truncated GGUF file (header runs past the end at byte "
                    + in.pos + ")", e);
        }
    }

    private static TensorData tensor(String source, MemorySegment file, long dataOffset, long alignment, String name,
            long[] shape, int type, long offset) {
        DType dtype = switch (type) {
            case 0 -> DType.F32;
            case 1 -> DType.F16;
            case 8 -> DType.Q8_0;
            case 30 -> DType.BF16;
            default -> throw new IllegalArgumentException(source + ": tensor " + name + " has type " + typeName(type)
                    + ", which is not supported (F32, F16, BF16 and Q8_0 are)");
        };
        long size = Tensors.byteSize(source + ": tensor " + name, dtype, shape);
        if (offset % alignment != 0 || offset < 0 || dataOffset + offset + size > file.byteSize()) {
            throw new IllegalArgumentException(source + ": tensor " + name + " at data offset " + offset + " (+" + size
                    + " bytes) is misaligned or past the end of the file");
        }
        return new TensorData(name, dtype, shape, file.asSlice(dataOffset + offset, size));
    }

    static String typeName(int type) {
        return (type >= 0 && type < TYPE_NAMES.length ? TYPE_NAMES[type] : "unknown") + " (" + type + ")";
    }

    public String source() {
        return source;
    }

    public int version() {
        return version;
    }

    public long alignment() {
        return alignment;
    }

    /** Byte offset in the file where tensor data starts. */
    public long dataOffset() {
        return dataOffset;
    }

    public Map<String, Object> metadata() {
        return metadata;
    }

    public Map<String, TensorData> tensors() {
        return tensors;
    }

    public Arena arena() {
        return arena;
    }

    public boolean has(String key) {
        return metadata.containsKey(key);
    }

    public String string(String key) {
        return (String) require(key, String.class);
    }

    public int integer(String key) {
        return Math.toIntExact(((Number) require(key, Number.class)).longValue());
    }

    public int integer(String key, int dflt) {
        return has(key) ? integer(key) : dflt;
    }

    public double number(String key, double dflt) {
        return has(key) ? ((Number) require(key, Number.class)).doubleValue() : dflt;
    }

    @SuppressWarnings("unchecked")
    public List<Object> array(String key) {
        return (List<Object>) require(key, List.class);
    }

    public List<String> strings(String key) {
        List<String> out = new ArrayList<>();
        for (Object o : array(key)) {
            out.add((String) o);
        }
        return out;
    }

    public float[] floats(String key) {
        List<Object> a = array(key);
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ((Number) a.get(i)).floatValue();
        }
        return out;
    }

    public int[] ints(String key) {
        List<Object> a = array(key);
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ((Number) a.get(i)).intValue();
        }
        return out;
    }

    private Object require(String key, Class<?> type) {
        Object v = metadata.get(key);
        if (v == null) {
            throw new IllegalArgumentException(source + ": no metadata key " + key);
        }
        if (!type.isInstance(v)) {
            throw new IllegalArgumentException(source + ": metadata " + key + " is a " + v.getClass().getSimpleName()
                    + ", expected " + type.getSimpleName());
        }
        return v;
    }

    @Override
    public void close() {
        if (arena != null) {
            arena.close();
        }
    }

    /** Reads GGUF's little-endian primitives and its length-prefixed strings and arrays. */
    private static final class Cursor {
        final MemorySegment seg;
        final String source;
        long pos;

        Cursor(MemorySegment seg, String source) {
            this.seg = seg;
            this.source = source;
        }

        int u32() {
            int v = seg.get(Tensors.I32, pos);
            pos += 4;
            return v;
        }

        long u64() {
            long v = seg.get(Tensors.I64, pos);
            pos += 8;
            return v;
        }

        /** A count that must fit what is left of the file (each item takes at least one byte). */
        long count(String what) {
            long n = u64();
            if (n < 0 || n > seg.byteSize() - pos) {
                throw new IllegalArgumentException(source + ": truncated or corrupt GGUF file (" + what + " " + n
                        + " at byte " + pos + " runs past the end)");
            }
            return n;
        }

        String string() {
            int len = Math.toIntExact(count("string length"));
            String s = new String(seg.asSlice(pos, len).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            pos += len;
            return s;
        }

        Object value(int type) {
            return switch (type) {
                case 0 -> seg.get(ValueLayout.JAVA_BYTE, pos++) & 0xff;
                case 1 -> (int) seg.get(ValueLayout.JAVA_BYTE, pos++);
                case 2 -> seg.get(Tensors.U16, (pos += 2) - 2) & 0xffff;
                case 3 -> (int) seg.get(Tensors.U16, (pos += 2) - 2);
                case 4 -> u32() & 0xffffffffL;
                case 5 -> u32();
                case 6 -> Float.intBitsToFloat(u32());
                case 7 -> seg.get(ValueLayout.JAVA_BYTE, pos++) != 0;
                case 8 -> string();
                case 9 -> {
                    int elemType = u32();
                    long n = count("array length");
                    List<Object> list = new ArrayList<>((int) n);
                    for (long i = 0; i < n; i++) {
                        list.add(value(elemType));
                    }
                    yield list;
                }
                case 10, 11 -> u64();
                case 12 -> Double.longBitsToDouble(u64());
                default -> throw new IllegalArgumentException(source + ": unknown GGUF value type " + type
                        + " at byte " + (pos - 4));
            };
        }
    }
}
