package org.pairwise.server.cluster;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import org.pairwise.server.store.StoreLocation.PostgresDatabase;

/**
 * What the trainer leaves in the cluster's database for the other nodes: each published policy version's adapter
 * (every node's generator loads it from here) and each trainer checkpoint (a node that takes the trainer lock over
 * resumes from the newest). Both are a directory as one zip in a row. Writes go through the {@link TrainerLock}'s
 * own connection, fenced by it: only the node holding the lock writes. Reads use a connection of their own.
 */
public final class SharedTrainerState implements AutoCloseable {
    /** A stored checkpoint: its step and the policy version it holds. */
    public record StoredCheckpoint(int step, int policyVersion) {}

    private final Connection reads;

    private SharedTrainerState(Connection reads) {
        this.reads = reads;
    }

    /** Its tables are the store's (migration 6): open the store on the database first. */
    public static SharedTrainerState open(PostgresDatabase db) throws SQLException {
        return new SharedTrainerState(db.connect("pairwise-shared-trainer-state", java.util.Map.of()));
    }

    /** Stores a published version's adapter directory (a version already stored is left as it is). */
    public void publish(TrainerLock lock, int version, int step, Path adapterDir) throws SQLException, IOException {
        byte[] zip = Archives.zip(adapterDir);
        lock.fenced(c -> {
            try (PreparedStatement s = c.prepareStatement("INSERT INTO policy_version_adapters (policy_version, step, "
                    + "adapter_zip, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (policy_version) DO NOTHING")) {
                s.setInt(1, version);
                s.setInt(2, step);
                s.setBytes(3, zip);
                s.setLong(4, System.currentTimeMillis());
                return s.executeUpdate();
            }
        });
    }

    /** The newest published version in the database, or 0 when none is. */
    public synchronized int newestVersion() throws SQLException {
        try (Statement s = reads.createStatement();
             ResultSet r = s.executeQuery("SELECT coalesce(max(policy_version), 0) FROM policy_version_adapters")) {
            r.next();
            return r.getInt(1);
        }
    }

    /** Unpacks a version's adapter into {@code target} (left alone if it exists); false when it is not stored. */
    public boolean fetchVersion(int version, Path target) throws SQLException, IOException {
        byte[] zip = bytes("SELECT adapter_zip FROM policy_version_adapters WHERE policy_version = ?", version);
        if (zip == null) {
            return false;
        }
        Archives.unzip(zip, target);
        return true;
    }

    /**
     * Stores a trainer checkpoint directory, and drops stored ones older than the newest {@code keep} (a node
     * taking over needs only the newest; a few more cover a checkpoint that turns out unreadable).
     */
    public void saveCheckpoint(TrainerLock lock, int step, int policyVersion, Path checkpointDir, int keep)
            throws SQLException, IOException {
        byte[] zip = Archives.zip(checkpointDir);
        lock.fenced(c -> {
            try (PreparedStatement s = c.prepareStatement("INSERT INTO trainer_checkpoint_archives (step, "
                    + "policy_version, archive_zip, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (step) DO UPDATE SET "
                    + "policy_version = excluded.policy_version, archive_zip = excluded.archive_zip, "
                    + "created_at = excluded.created_at")) {
                s.setInt(1, step);
                s.setInt(2, policyVersion);
                s.setBytes(3, zip);
                s.setLong(4, System.currentTimeMillis());
                s.executeUpdate();
            }
            try (PreparedStatement s = c.prepareStatement("DELETE FROM trainer_checkpoint_archives WHERE step NOT IN "
                    + "(SELECT step FROM trainer_checkpoint_archives ORDER BY step DESC LIMIT ?)")) {
                s.setInt(1, keep);
                return s.executeUpdate();
            }
        });
    }

    /** The newest stored checkpoint, unpacked into {@code root}/checkpoint-STEP (as the trainer names them). */
    public synchronized Optional<StoredCheckpoint> fetchNewestCheckpoint(Path root) throws SQLException, IOException {
        try (Statement s = reads.createStatement();
             ResultSet r = s.executeQuery("SELECT step, policy_version, archive_zip FROM trainer_checkpoint_archives "
                     + "ORDER BY step DESC LIMIT 1")) {
            if (!r.next()) {
                return Optional.empty();
            }
            int step = r.getInt(1);
            Archives.unzip(r.getBytes(3), root.resolve("checkpoint-" + step));
            return Optional.of(new StoredCheckpoint(step, r.getInt(2)));
        }
    }

    private synchronized byte[] bytes(String sql, int key) throws SQLException {
        try (PreparedStatement s = reads.prepareStatement(sql)) {
            s.setInt(1, key);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? r.getBytes(1) : null;
            }
        }
    }

    @Override
    public synchronized void close() throws SQLException {
        reads.close();
    }
}
