package org.pairwise.accel.tornado;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The cache of compiled sequences run on their own, by {@link SequenceKey}, least recently used first. A key seen once
 * maps to null (it ran call by call). Past {@link #MAX_SEQUENCES} keys or {@link #MAX_BYTES} of device memory (with the
 * pinned bytes of compiled pairs, which are never evicted) the least recently used go, never the one in use; each
 * compiled one is retired (its values back to the host) as it goes.
 */
final class Sequences {
    /** Keys kept (each compiled one holds compiled kernels and device buffers). */
    static final int MAX_SEQUENCES = 256;
    /**
     * Device bytes the compiled sequences may hold together (each holds its own copy of the frozen weights it reads: a
     * model's forward and backward are two copies). Default 4 GiB.
     */
    static final long MAX_BYTES = Long.getLong("pairwise.tornado.compiledBytes", 4L << 30);

    private final Map<List<Object>, Fused> byKey = new LinkedHashMap<>(16, 0.75f, true);
    private final long maxBytes;
    private final LongSupplier pinnedBytes;
    private final Consumer<Fused> retire;

    Sequences(long maxBytes, LongSupplier pinnedBytes, Consumer<Fused> retire) {
        this.maxBytes = maxBytes;
        this.pinnedBytes = pinnedBytes;
        this.retire = retire;
    }

    boolean seen(List<Object> key) {
        return byKey.containsKey(key);
    }

    /** The compiled sequence of key, or null (never seen, or seen once). */
    Fused get(List<Object> key) {
        return byKey.get(key);
    }

    /** Notes a key run call by call. */
    void markSeen(List<Object> key) {
        byKey.put(key, null);
        trim(key);
    }

    /** Holds f as key's compiled sequence (the caller retired what it replaces). */
    void put(List<Object> key, Fused f) {
        byKey.put(key, f);
        trim(key);
    }

    /** Drops key's compiled sequence but remembers the key as seen; returns what it held, for the caller to retire. */
    Fused forget(List<Object> key) {
        return byKey.put(key, null);
    }

    /** Device bytes of the compiled sequences held here. */
    long bytes() {
        long b = 0;
        for (Fused f : byKey.values()) {
            b += f == null ? 0 : f.bytes;
        }
        return b;
    }

    int compiled() {
        return (int) byKey.values().stream().filter(f -> f != null).count();
    }

    /** Retires every compiled sequence and forgets every key. */
    void clear() {
        for (Fused f : new ArrayList<>(byKey.values())) {
            if (f != null) {
                retire.accept(f);
            }
        }
        byKey.clear();
    }

    private void trim(List<Object> inUse) {
        List<Map.Entry<List<Object>, Fused>> victims = new ArrayList<>();
        long bytes = bytes() + pinnedBytes.getAsLong();
        int n = byKey.size();
        for (Map.Entry<List<Object>, Fused> e : byKey.entrySet()) {
            if (n <= MAX_SEQUENCES && bytes <= maxBytes) {
                break;
            }
            if (!e.getKey().equals(inUse)) {
                victims.add(e);
                n--;
                bytes -= e.getValue() == null ? 0 : e.getValue().bytes;
            }
        }
        for (Map.Entry<List<Object>, Fused> e : victims) {
            byKey.remove(e.getKey());
            if (e.getValue() != null) {
                retire.accept(e.getValue());
            }
        }
    }
}
