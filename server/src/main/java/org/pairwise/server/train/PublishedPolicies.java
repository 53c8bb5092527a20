package org.pairwise.server.train;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.pairwise.accel.Backend;
import org.pairwise.model.lora.LoraAdapter;

/**
 * Published policy versions as PEFT adapter directories, {@code DATA_DIR/policy/version-N}. A directory is written
 * whole (temporary name, then an atomic rename) and never changed afterwards, so the generator can load it and
 * {@code GET /api/adapter} can zip it while training goes on. Version 0 is the starting adapter, or none.
 *
 * <p>The newest {@code keep} versions stay on disk (battles and rollback need them), and so do pinned ones: the admin
 * pins a version under a name ({@code POST /api/policy/pin}), kept in {@code pins.json} beside the versions, so it
 * stays a battle opponent however far training goes. Version 0 is never deleted (it is not in this directory). The
 * guard's hold on publishing, if any, is {@code hold.json} here too ({@link #holdRecord}).
 */
public final class PublishedPolicies {
    private static final String PREFIX = "version-";
    private static final String PINS = "pins.json";
    private static final String HOLD = "hold.json";

    private final Path root;
    private final Path initial;
    private final int keep;

    /** @param initial the adapter directory version 0 was started from, or null for the base model */
    public PublishedPolicies(Path root, Path initial, int keep) {
        this.root = root;
        this.initial = initial;
        this.keep = keep;
    }

    public Path dir(int version) {
        return version == 0 ? initial : root.resolve(PREFIX + version);
    }

    /** The directory of that version, if it is on disk (null for version 0 without a starting adapter). */
    public Path existing(int version) {
        Path d = dir(version);
        return d != null && Files.isRegularFile(d.resolve("adapter_config.json")) ? d : null;
    }

    /** Writes the snapshot as this version, replacing a directory of the same version left by an earlier run. */
    public Path save(LoraAdapter snapshot, Backend be, int version) throws IOException {
        Path dir = dir(version);
        Path tmp = root.resolve(PREFIX + version + ".tmp");
        deleteRecursively(tmp);
        snapshot.save(tmp, be);
        deleteRecursively(dir);
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        prune(version);
        return dir;
    }

    /**
     * Removes versions newer than the one a checkpoint resumes at: they were published after that checkpoint and
     * are trained again (to different weights) under the same numbers.
     */
    public void dropNewerThan(int version) throws IOException {
        for (Path d : versions()) {
            if (number(d) > version) {
                deleteRecursively(d);
            }
        }
    }

    private synchronized void prune(int newest) throws IOException {
        var pinned = pins().values();
        for (Path d : versions()) {
            if (number(d) <= newest - keep && !pinned.contains(number(d))) {
                deleteRecursively(d);
            }
        }
    }

    /** The versions a battle or a rollback can load now: 0, then every version on disk, oldest first. */
    public synchronized List<Integer> kept() throws IOException {
        List<Integer> out = new ArrayList<>(List.of(0));
        for (Path d : versions()) {
            out.add(number(d));
        }
        return out;
    }

    /** Pins version under name (a name pinned before moves); the version must be kept. */
    public synchronized void pin(String name, int version) throws IOException {
        if (!kept().contains(version)) {
            throw new IllegalArgumentException("policy version " + version + " is not kept on disk");
        }
        Map<String, Integer> p = pins();
        p.put(name, version);
        writePins(p);
    }

    /** Removes a pin; false when there was none of that name. */
    public synchronized boolean unpin(String name) throws IOException {
        Map<String, Integer> p = pins();
        if (p.remove(name) == null) {
            return false;
        }
        writePins(p);
        return true;
    }

    /** Pinned versions by name, in the order they were pinned. */
    public synchronized Map<String, Integer> pins() throws IOException {
        Path f = root.resolve(PINS);
        Map<String, Integer> out = new LinkedHashMap<>();
        if (Files.isRegularFile(f)) {
            new JsonObject(Files.readString(f)).forEach(e -> out.put(e.getKey(), ((Number) e.getValue()).intValue()));
        }
        return out;
    }

    private void writePins(Map<String, Integer> pins) throws IOException {
        writeJson(PINS, new JsonObject(new LinkedHashMap<>(pins)));
    }

    /** The guard's hold, kept in hold.json beside the versions, so a restart still holds publishing. */
    public PolicyGuard.HoldRecord holdRecord() {
        return new PolicyGuard.HoldRecord() {
            @Override
            public JsonObject read() throws IOException {
                Path f = root.resolve(HOLD);
                if (!Files.isRegularFile(f)) {
                    return null;
                }
                try {
                    return new JsonObject(Files.readString(f));
                } catch (io.vertx.core.json.DecodeException e) {
                    throw new IOException(f + " is not the JSON of a hold (fix it, or delete it to let publishing "
                            + "go on)");
                }
            }

            @Override
            public void write(JsonObject hold) throws IOException {
                if (hold == null) {
                    Files.deleteIfExists(root.resolve(HOLD));
                } else {
                    writeJson(HOLD, hold);
                }
            }
        };
    }

    /** Written to a temporary file, forced to disk, and moved into place: a crash leaves the old file or the new. */
    private synchronized void writeJson(String name, JsonObject o) throws IOException {
        Files.createDirectories(root);
        Path tmp = root.resolve(name + ".tmp");
        try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.TRUNCATE_EXISTING, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(o.encodePrettily().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            ch.force(true);
        }
        Files.move(tmp, root.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private List<Path> versions() throws IOException {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (var s = Files.list(root)) {
            return s.filter(d -> d.getFileName().toString().matches(PREFIX + "\\d+"))
                    .sorted(Comparator.comparingInt(PublishedPolicies::number)).toList();
        }
    }

    private static int number(Path d) {
        return Integer.parseInt(d.getFileName().toString().substring(PREFIX.length()));
    }

    /** Deletes a directory and everything in it; nothing to do for one that is not there. */
    public static void deleteRecursively(Path p) throws IOException {
        if (p == null || !Files.exists(p)) {
            return;
        }
        try (var walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
