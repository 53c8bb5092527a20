package org.pairwise.server.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import org.pairwise.accel.Backend;
import org.pairwise.model.lora.LoraAdapter;

/**
 * Published policy versions as PEFT adapter directories, {@code DATA_DIR/policy/version-N}. A directory is written
 * whole (temporary name, then an atomic rename) and never changed afterwards, so the generator can load it and
 * {@code GET /api/adapter} can zip it while training goes on. Version 0 is the starting adapter, or none.
 */
public final class PublishedPolicies {
    private static final String PREFIX = "version-";

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

    private void prune(int newest) throws IOException {
        for (Path d : versions()) {
            if (number(d) <= newest - keep) {
                deleteRecursively(d);
            }
        }
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

    static void deleteRecursively(Path p) throws IOException {
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
