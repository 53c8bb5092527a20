package org.pairwise.server;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import org.pairwise.model.DemoModel;
import org.pairwise.model.ModelConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data directory one server owns: created if needed, locked for the life of the server (an exclusive lock on
 * {@value #LOCK_FILE}, which the operating system drops when the process dies, even by SIGKILL), and remembering the
 * model it was created with ({@value #MODEL_FILE}), so that a start with another model says so instead of failing
 * later on a tensor shape. Every failure is a {@link StartException} in words.
 */
final class DataDir implements AutoCloseable {
    static final String LOCK_FILE = "pairwise.lock";
    static final String MODEL_FILE = "model.json";
    private static final Logger LOG = LoggerFactory.getLogger(DataDir.class);

    private final Path dir;
    private final FileChannel channel;
    private final FileLock lock;

    private DataDir(Path dir, FileChannel channel, FileLock lock) {
        this.dir = dir;
        this.channel = channel;
        this.lock = lock;
    }

    /** Creates the directory if needed and locks it; fails when it cannot be used or another server holds it. */
    static DataDir lock(Path dir) throws StartException {
        Path abs = dir.toAbsolutePath();
        try {
            Files.createDirectories(abs);
        } catch (FileAlreadyExistsException e) {
            throw new StartException("data dir " + abs + " exists and is not a directory", e);
        } catch (IOException e) {
            throw new StartException("cannot create data dir " + abs + ": " + why(e), e);
        }
        FileChannel channel;
        try {
            channel = FileChannel.open(abs.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new StartException("data dir " + abs + " is not writable: " + why(e), e);
        }
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;  // this very process holds it: another server in this JVM
        } catch (IOException e) {
            closeQuietly(channel);
            throw new StartException("cannot lock data dir " + abs + ": " + why(e), e);
        }
        if (lock == null) {
            String holder = holder(channel);
            closeQuietly(channel);
            throw new StartException("data dir " + abs + " is in use by process " + holder
                    + "; stop that server or choose another --data-dir");
        }
        writePid(channel);
        return new DataDir(abs, channel, lock);
    }

    /**
     * Checks this start's model against the one the directory was created with, or records it on the first start.
     * The shapes decide (an adapter trained on one model does not fit another); a different name with the same
     * shapes (a moved file, a hub id for a local copy) is allowed and logged.
     */
    void checkModel(String spec, ModelConfig config) throws StartException {
        Path file = dir.resolve(MODEL_FILE);
        String shape = shape(config);
        if (!Files.isRegularFile(file)) {
            try {
                Files.writeString(file, new JsonObject().put("model", spec).put("shape", shape).encodePrettily());
            } catch (IOException e) {
                LOG.warn("could not record the model in {}: {}", file, e.toString());  // checked again next start
            }
            return;
        }
        JsonObject recorded;
        try {
            recorded = new JsonObject(Files.readString(file));
        } catch (IOException | RuntimeException e) {
            throw new StartException("cannot read " + file + " (the model this data dir was created with): "
                    + why(e) + "; delete it to record the current model", e);
        }
        String created = recorded.getString("model", "?");
        if (!shape.equals(recorded.getString("shape"))) {
            String now = spec.equals(DemoModel.SPEC)
                    ? "no --model, so the built-in demo model" : "--model " + spec;
            throw new StartException("data dir " + dir + " was created with model " + created + " ("
                    + recorded.getString("shape") + "), but this start has " + now + " (" + shape + "); start with "
                    + "--model " + created + ", or choose another --data-dir");
        }
        if (!created.equals(spec)) {
            LOG.warn("data dir {} was created with model {}; this start uses {} (same shapes): continuing", dir,
                    created, spec);
        }
    }

    static String shape(ModelConfig c) {
        return c.architecture() + ", hidden " + c.hiddenSize() + ", " + c.numLayers() + " layers, " + c.numHeads()
                + " heads (" + c.numKvHeads() + " kv) of " + c.headDim() + ", intermediate " + c.intermediateSize()
                + ", vocabulary " + c.vocabSize();
    }

    /** Releases the lock (the file stays: removing it would race a server starting right now). */
    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException ignored) {
            // closing the channel releases it too
        }
        closeQuietly(channel);
    }

    private static String holder(FileChannel channel) {
        try {
            ByteBuffer b = ByteBuffer.allocate(32);
            channel.read(b, 0);
            String pid = new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII).strip();
            return pid.matches("\\d+") ? pid : "(unknown: it has not written its id yet)";
        } catch (IOException e) {
            return "(unknown: " + e.getMessage() + ")";
        }
    }

    /** Overwrites in place, then cuts: on a full disk the old content's block is reused, so no new space is needed. */
    private static void writePid(FileChannel channel) {
        byte[] pid = (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII);
        try {
            channel.write(ByteBuffer.wrap(pid), 0);
            channel.truncate(pid.length);
            channel.force(false);
        } catch (IOException e) {
            LOG.warn("could not write this process's id into the lock file: {}", e.toString());
        }
    }

    /** The operating system's reason, without the path the message repeats. */
    static String why(Throwable e) {
        if (e instanceof AccessDeniedException a) {
            return "permission denied" + (a.getFile() == null ? "" : " on " + a.getFile());
        }
        if (e instanceof NoSuchFileException n) {
            return "no such file or directory: " + n.getFile();
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason().toLowerCase(Locale.ROOT)
                    + (f.getFile() == null ? "" : " (" + f.getFile() + ")");
        }
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }

    private static void closeQuietly(FileChannel c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // nothing held
        }
    }
}
