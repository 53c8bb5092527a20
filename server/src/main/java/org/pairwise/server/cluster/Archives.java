package org.pairwise.server.cluster;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.pairwise.server.train.PublishedPolicies;

/**
 * A directory of files (a PEFT adapter, a trainer checkpoint) as one zip in a database row, and back. Files only,
 * one level of subdirectories at most as the checkpoints have (ref_adapter/), stored uncompressed: float weights do
 * not compress, and the database row is the unit that commits.
 */
final class Archives {
    private Archives() {}

    static byte[] zip(Path dir) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes); Stream<Path> walk = Files.walk(dir)) {
            zip.setLevel(0);
            List<Path> files = walk.filter(Files::isRegularFile).sorted().toList();
            for (Path f : files) {
                zip.putNextEntry(new ZipEntry(dir.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, zip);
                zip.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    /**
     * Unpacks into {@code target}, which appears whole or not at all (unpacked beside it, then renamed); an existing
     * target is left as it is. Refuses entries that would land outside it.
     */
    static void unzip(byte[] archive, Path target) throws IOException {
        if (Files.isDirectory(target)) {
            return;
        }
        Path parent = target.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempDirectory(parent, "." + target.getFileName() + ".part-");
        try {
            try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(archive))) {
                for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
                    Path out = tmp.resolve(e.getName()).normalize();
                    if (!out.startsWith(tmp) || e.isDirectory()) {
                        throw new IOException("unexpected entry in a stored archive: " + e.getName());
                    }
                    Files.createDirectories(out.getParent());
                    Files.copy(zip, out);
                }
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            PublishedPolicies.deleteRecursively(tmp);  // a failed unpack leaves nothing; after the move, tmp is gone
        }
    }
}
