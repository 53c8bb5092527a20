package org.pairwise.model.load;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.pairwise.accel.DType;

/**
 * Reads the safetensors format: an 8-byte little-endian header length, a JSON header mapping each tensor name to
 * {@code dtype}, {@code shape} and {@code data_offsets} (relative to the end of the header), then the raw data.
 * Files are memory-mapped and tensors are slices of the mapping, so a multi-gigabyte checkpoint costs no heap.
 */
public final class Safetensors {
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private static final ObjectMapper JSON = new ObjectMapper();
    // Far above any real header (a few MB for 100k tensors); guards against reading a non-safetensors file's
    // first bytes as a huge length.
    private static final long MAX_HEADER = 100L << 20;

    private Safetensors() {}

    /** Maps one file into {@code arena}; the tensors are valid until the arena closes. */
    public static Map<String, TensorData> read(Path file, Arena arena) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            return parse(seg, file.toString());
        }
    }

    /** The model weights of an HF directory: {@code model.safetensors}, or the shards its index names. */
    public static Map<String, TensorData> readModel(Path dir, Arena arena) throws IOException {
        Path single = dir.resolve(SINGLE_FILE);
        Path index = dir.resolve(INDEX_FILE);
        if (Files.exists(index)) {
            return readSharded(index, arena);
        }
        if (Files.exists(single)) {
            return read(single, arena);
        }
        throw new IOException(dir + ": no " + SINGLE_FILE + " or " + INDEX_FILE
                + " (only safetensors weights are supported, not pytorch_model.bin)");
    }

    /** Every shard named in an index's {@code weight_map}; each tensor must be in the shard the index says. */
    public static Map<String, TensorData> readSharded(Path indexFile, Arena arena) throws IOException {
        Map<String, String> weightMap = weightMap(indexFile);
        Map<String, TensorData> out = new LinkedHashMap<>();
        for (String shard : new TreeSet<>(weightMap.values())) {
            Path shardPath = indexFile.resolveSibling(shard);
            if (!Files.exists(shardPath)) {
                throw new IOException(indexFile + " names shard " + shard + ", which does not exist");
            }
            Map<String, TensorData> tensors = read(shardPath, arena);
            for (TensorData t : tensors.values()) {
                if (shard.equals(weightMap.get(t.name()))) {
                    out.put(t.name(), t);
                }
            }
        }
        for (Map.Entry<String, String> e : weightMap.entrySet()) {
            if (!out.containsKey(e.getKey())) {
                throw new IOException(indexFile + ": tensor " + e.getKey() + " is not in its shard " + e.getValue());
            }
        }
        return out;
    }

    /** The {@code weight_map} of a sharded checkpoint's index: tensor name to shard file name. */
    public static Map<String, String> weightMap(Path indexFile) throws IOException {
        JsonNode map;
        try {
            map = JSON.readTree(indexFile.toFile()).path("weight_map");
        } catch (IOException e) {
            throw new IOException(indexFile + ": not a valid safetensors index (" + e.getMessage() + ")", e);
        }
        if (!map.isObject() || map.isEmpty()) {
            throw new IOException(indexFile + ": no weight_map");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            String shard = e.getValue().asText();
            if (shard.contains("/") || shard.contains("\\") || shard.startsWith(".")) {
                throw new IOException(indexFile + ": shard name " + shard + " is not a plain file name");
            }
            out.put(e.getKey(), shard);
        }
        return out;
    }

    /** Parses a whole file's bytes; tensors are slices of {@code file}. */
    public static Map<String, TensorData> parse(MemorySegment file, String source) {
        if (file.byteSize() < 8) {
            throw new IllegalArgumentException(source + ": too short for a safetensors file");
        }
        long headerLen = file.get(Tensors.I64, 0);
        if (headerLen < 2 || headerLen > MAX_HEADER || headerLen > file.byteSize() - 8) {
            throw new IllegalArgumentException(source + ": not a safetensors file (header length " + headerLen
                    + ", file size " + file.byteSize() + ")");
        }
        byte[] headerBytes = file.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
        JsonNode header;
        try {
            header = JSON.readTree(headerBytes);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(source + ": malformed safetensors header: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new IllegalArgumentException(source + ": unreadable safetensors header: " + e.getMessage(), e);
        }
        if (header == null || !header.isObject()) {
            throw new IllegalArgumentException(source + ": malformed safetensors header: not a JSON object");
        }
        MemorySegment data = file.asSlice(8 + headerLen);
        List<TensorData> tensors = new ArrayList<>();
        List<long[]> ranges = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : header.properties()) {
            if (e.getKey().equals("__metadata__")) {
                continue;
            }
            long[] range = new long[2];
            tensors.add(tensor(source, e.getKey(), e.getValue(), data, range));
            ranges.add(range);
        }
        checkNoOverlap(source, tensors, ranges);
        Map<String, TensorData> out = new LinkedHashMap<>();
        for (TensorData t : tensors) {
            out.put(t.name(), t);
        }
        return out;
    }

    private static TensorData tensor(String source, String name, JsonNode info, MemorySegment data, long[] range) {
        String where = source + ": tensor " + name;
        JsonNode shapeNode = info.get("shape");
        JsonNode offsets = info.get("data_offsets");
        if (!info.path("dtype").isTextual() || shapeNode == null || !shapeNode.isArray()
                || offsets == null || !offsets.isArray() || offsets.size() != 2) {
            throw new IllegalArgumentException(where + ": header entry needs dtype, shape and data_offsets [begin, end]");
        }
        DType dtype = dtype(where, info.get("dtype").asText());
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!shapeNode.get(i).canConvertToLong() || !shapeNode.get(i).isIntegralNumber()) {
                throw new IllegalArgumentException(where + ": shape " + shapeNode + " is not a list of integers");
            }
            shape[i] = shapeNode.get(i).asLong();
        }
        long begin = offsets.get(0).asLong(-1);
        long end = offsets.get(1).asLong(-1);
        long expected = Tensors.byteSize(where, dtype, shape);
        if (begin < 0 || end < begin || end > data.byteSize()) {
            throw new IllegalArgumentException(where + ": data_offsets [" + begin + ", " + end
                    + "] outside the " + data.byteSize() + " data bytes");
        }
        if (end - begin != expected) {
            throw new IllegalArgumentException(where + ": " + (end - begin) + " bytes for " + dtype
                    + " shape " + java.util.Arrays.toString(shape) + ", which needs " + expected);
        }
        range[0] = begin;
        range[1] = end;
        return new TensorData(name, dtype, shape, data.asSlice(begin, end - begin));
    }

    static DType dtype(String where, String name) {
        return switch (name) {
            case "F32" -> DType.F32;
            case "BF16" -> DType.BF16;
            case "F16" -> DType.F16;
            default -> throw new IllegalArgumentException(where + " has dtype " + name
                    + ", which is not supported (F32, BF16 and F16 are)");
        };
    }

    static String dtypeName(DType dtype) {
        return switch (dtype) {
            case F32 -> "F32";
            case BF16 -> "BF16";
            case F16 -> "F16";
            default -> throw new IllegalArgumentException("safetensors cannot store " + dtype);
        };
    }

    private static void checkNoOverlap(String source, List<TensorData> tensors, List<long[]> ranges) {
        Integer[] order = new Integer[tensors.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, Comparator.comparingLong(i -> ranges.get(i)[0]));
        for (int k = 1; k < order.length; k++) {
            long[] prev = ranges.get(order[k - 1]);
            long[] cur = ranges.get(order[k]);
            if (cur[0] < prev[1]) {
                throw new IllegalArgumentException(source + ": tensors " + tensors.get(order[k - 1]).name()
                        + " and " + tensors.get(order[k]).name() + " overlap");
            }
        }
    }
}
