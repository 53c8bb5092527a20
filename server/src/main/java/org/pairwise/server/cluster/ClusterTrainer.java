package org.pairwise.server.cluster;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.pairwise.server.train.PublishedPolicies;
import org.pairwise.server.train.TrainerLoop;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's part in choosing the cluster's one trainer. A thread tries the {@link TrainerLock} every second (a
 * database that does not answer is retried on a new connection, however long it is away); the
 * node that takes it replaces its local checkpoints with the newest one in the database (whoever trained last wrote
 * it there) and becomes the trainer ({@code onElected}: resume from that checkpoint, start the loop). While it
 * trains, every checkpoint and published version is copied to the database through the lock, before anyone is told
 * ({@link #replica}); it checks the lock every second, and if the lock is gone (its connection broke, so another
 * node may train now) it calls {@code onLost}, which stops training on this node for good.
 */
public final class ClusterTrainer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterTrainer.class);
    static final long TRY_EVERY_MS = 1_000;

    /** What this node does when it becomes the trainer, and when it stops being it. */
    public interface Role {
        void elected() throws Exception;

        void lost(String why);
    }

    /** Opens a new connection for the lock (a broken one is replaced while this node waits for the lock). */
    @FunctionalInterface
    public interface LockOpener {
        TrainerLock open() throws java.sql.SQLException;
    }

    private final LockOpener opener;
    private volatile TrainerLock lock;
    private final SharedTrainerState shared;
    private final Path trainerDir;
    private final int keepCheckpoints;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile boolean training;

    public ClusterTrainer(LockOpener opener, SharedTrainerState shared, Path trainerDir, int keepCheckpoints,
                          Role role) {
        this.opener = opener;
        this.shared = shared;
        this.trainerDir = trainerDir;
        this.keepCheckpoints = keepCheckpoints;
        this.thread = Thread.ofPlatform().name("pairwise-trainer-election").daemon().unstarted(() -> run(role));
    }

    public ClusterTrainer start() {
        thread.start();
        return this;
    }

    /** Whether this node holds the lock and trains. */
    public boolean training() {
        return training;
    }

    /** Copies checkpoints and versions to the database through the lock (a node without it copies nothing). */
    public TrainerLoop.Replica replica() {
        return new TrainerLoop.Replica() {
            @Override
            public void checkpointed(int step, int policyVersion, Path dir) throws Exception {
                shared.saveCheckpoint(held(), step, policyVersion, dir, keepCheckpoints);
            }

            @Override
            public void published(int version, int step, Path dir) throws Exception {
                shared.publish(held(), version, step, dir);
            }
        };
    }

    private TrainerLock held() throws TrainerLock.LostLock {
        TrainerLock l = lock;
        if (l == null || !training) {
            throw new TrainerLock.LostLock();
        }
        return l;
    }

    /** Waits for the lock; a database that fails meanwhile is retried with a new connection, as long as it takes. */
    private boolean awaitLock() throws InterruptedException {
        boolean warned = false;
        while (running) {
            try {
                if (lock == null) {
                    lock = opener.open();
                }
                if (lock.tryAcquire()) {
                    return true;
                }
                warned = false;
            } catch (java.sql.SQLException e) {
                if (!warned) {
                    LOG.warn("waiting for the trainer lock: the database does not answer ({}); retrying",
                            e.getMessage());
                    warned = true;
                }
                closeQuietly();
            }
            Thread.sleep(TRY_EVERY_MS);
        }
        return false;
    }

    private void closeQuietly() {
        TrainerLock l = lock;
        lock = null;
        if (l != null) {
            try {
                l.close();
            } catch (java.sql.SQLException ignored) {
                // it is broken already
            }
        }
    }

    private void run(Role role) {
        try {
            if (!awaitLock()) {
                return;
            }
            takeOverCheckpoints();
            training = true;
            LOG.info("this node holds the trainer lock: it trains from now on");
            role.elected();
            while (running) {
                Thread.sleep(TRY_EVERY_MS);
                if (!lock.stillHeld()) {
                    throw new TrainerLock.LostLock();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            if (running) {
                training = false;
                LOG.error("this node stops training: {}", e.toString());
                role.lost(e.getMessage() == null ? e.toString() : e.getMessage());
            }
        }
    }

    /** The database's newest checkpoint replaces whatever this node had from an earlier turn as trainer. */
    private void takeOverCheckpoints() throws Exception {
        if (Files.isDirectory(trainerDir)) {
            try (Stream<Path> dirs = Files.list(trainerDir)) {
                for (Path d : dirs.filter(p -> p.getFileName().toString().startsWith("checkpoint-")).toList()) {
                    PublishedPolicies.deleteRecursively(d);
                }
            }
        }
        Files.createDirectories(trainerDir);
        var c = shared.fetchNewestCheckpoint(trainerDir);
        LOG.info("resuming from {}", c.map(x -> "the database's checkpoint of step " + x.step() + " (policy v"
                + x.policyVersion() + ")").orElse("the start: the database has no checkpoint yet"));
    }

    @Override
    public void close() throws Exception {
        running = false;
        thread.interrupt();
        thread.join(10_000);
        closeQuietly();
    }
}
