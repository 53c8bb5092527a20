package org.pairwise.model.load;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Writes safetensors files the way the reference (Rust/Python) library does: tensors ordered by element size then
 * name, the JSON header padded with spaces to a multiple of 8 bytes so that the data starts 8-aligned, and
 * {@code __metadata__} (string to string) first. Files appear atomically: written to a temporary file, then renamed.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SafetensorsWriter() {}

    public static void write(Path file, Collection<TensorData> tensors, Map<String, String> metadata) throws IOException {
        List<TensorData> sorted = new ArrayList<>(tensors);
        sorted.sort(Comparator.comparingInt((TensorData t) -> -t.dtype().blockBytes).thenComparing(TensorData::name));
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            new TreeMap<>(metadata).forEach(meta::put);
        }
        long offset = 0;
        for (TensorData t : sorted) {
            long size = Tensors.byteSize(t.name(), t.dtype(), t.shape());
            if (size != t.data().byteSize()) {
                throw new IllegalArgumentException(t + ": " + t.data().byteSize() + " bytes, shape needs " + size);
            }
            if (header.has(t.name())) {
                throw new IllegalArgumentException("tensor " + t.name() + " given twice");
            }
            ObjectNode entry = header.putObject(t.name());
            entry.put("dtype", Safetensors.dtypeName(t.dtype()));
            ArrayNode shape = entry.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            entry.putArray("data_offsets").add(offset).add(offset + size);
            offset += size;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();

        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        // Not Files.createTempFile: its owner-only permissions would stick to the renamed file.
        Path tmp = dir.resolve("." + file.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW)) {
                writeFully(ch, head);
                for (TensorData t : sorted) {
                    writeSegment(ch, t.data());
                }
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Writes {@code shards.size()} files named as transformers names them ({@code model-00001-of-00002.safetensors})
     * into {@code dir}, and {@code model.safetensors.index.json} with {@code total_size} and {@code weight_map}.
     */
    public static void writeSharded(Path dir, List<? extends Collection<TensorData>> shards, Map<String, String> metadata)
            throws IOException {
        Map<String, String> weightMap = new TreeMap<>();
        long total = 0;
        for (int i = 0; i < shards.size(); i++) {
            String name = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
            write(dir.resolve(name), shards.get(i), metadata);
            for (TensorData t : shards.get(i)) {
                weightMap.put(t.name(), name);
                total += t.data().byteSize();
            }
        }
        ObjectNode index = JSON.createObjectNode();
        index.putObject("metadata").put("total_size", total);
        ObjectNode map = index.putObject("weight_map");
        weightMap.forEach(map::put);
        Files.writeString(dir.resolve(Safetensors.INDEX_FILE),
                JSON.writerWithDefaultPrettyPrinter().writeValueAsString(index), StandardCharsets.UTF_8);
    }

    private static void writeSegment(FileChannel ch, MemorySegment seg) throws IOException {
        // Chunks keep each ByteBuffer view under 2 GiB and let mapped sources be streamed without a heap copy.
        long chunk = 1 << 26;
        for (long pos = 0; pos < seg.byteSize(); pos += chunk) {
            writeFully(ch, seg.asSlice(pos, Math.min(chunk, seg.byteSize() - pos)).asByteBuffer());
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }
}
