package org.pairwise.server.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.server.store.StoreLocation.PostgresDatabase;
import org.pairwise.server.store.pg.SharedPostgres;

/**
 * The trainer's shared state on a real PostgreSQL server: an adapter directory stored by the lock holder comes back
 * byte for byte into another node's directory; a node without the lock cannot store anything; the newest checkpoint
 * comes back under the trainer's own name for it, and only the newest few are kept.
 */
class SharedTrainerStateTest {
    static PostgresDatabase db;

    @TempDir
    Path dir;

    @BeforeAll
    static void database() throws Exception {
        db = SharedPostgres.freshDatabase("shared");
    }

    /** A directory like an adapter or a checkpoint: random bytes, one file in a subdirectory. */
    Path directory(String name, long seed) throws Exception {
        Path d = Files.createDirectories(dir.resolve(name));
        Random r = new Random(seed);
        byte[] weights = new byte[300_000];
        r.nextBytes(weights);
        Files.write(d.resolve("adapter_model.safetensors"), weights);
        Files.writeString(d.resolve("adapter_config.json"), "{\"r\": 8, \"seed\": " + seed + "}");
        Files.createDirectories(d.resolve("ref_adapter"));
        Files.writeString(d.resolve("ref_adapter").resolve("adapter_config.json"), "{}");
        return d;
    }

    static void assertSameFiles(Path expected, Path actual) throws Exception {
        for (String f : new String[] {"adapter_model.safetensors", "adapter_config.json",
                "ref_adapter/adapter_config.json"}) {
            assertArrayEquals(Files.readAllBytes(expected.resolve(f)), Files.readAllBytes(actual.resolve(f)), f);
        }
    }

    @Test
    void theLockHolderPublishesAndEveryNodeFetchesTheSameBytes() throws Exception {
        try (TrainerLock trainer = TrainerLock.open(db); TrainerLock other = TrainerLock.open(db);
             SharedTrainerState state = SharedTrainerState.open(db)) {
            assertTrue(trainer.tryAcquire());
            int before = state.newestVersion();
            Path v = directory("v" + (before + 1), 1);
            state.publish(trainer, before + 1, 10, v);
            assertEquals(before + 1, state.newestVersion());
            Path fetched = dir.resolve("node2").resolve("version-" + (before + 1));
            assertTrue(state.fetchVersion(before + 1, fetched));
            assertSameFiles(v, fetched);
            assertFalse(state.fetchVersion(before + 2, dir.resolve("none")), "not stored");
            assertFalse(Files.exists(dir.resolve("none")));

            assertThrows(TrainerLock.LostLock.class, () -> state.publish(other, before + 2, 11,
                    directory("v-intruder", 2)), "a node without the lock stores nothing");
            assertEquals(before + 1, state.newestVersion());
        }
    }

    @Test
    void theNewestCheckpointComesBackAndOnlyTheNewestAreKept() throws Exception {
        try (TrainerLock trainer = TrainerLock.open(db); SharedTrainerState state = SharedTrainerState.open(db)) {
            TrainerLockTest.awaitAcquired(trainer, "for the checkpoint test");
            for (int step = 1; step <= 4; step++) {
                state.saveCheckpoint(trainer, step * 10, step, directory("checkpoint-" + step * 10, step), 2);
            }
            Path root = dir.resolve("takeover");
            Optional<SharedTrainerState.StoredCheckpoint> c = state.fetchNewestCheckpoint(root);
            assertEquals(Optional.of(new SharedTrainerState.StoredCheckpoint(40, 4)), c);
            assertSameFiles(dir.resolve("checkpoint-40"), root.resolve("checkpoint-40"));
            try (var conn = SharedPostgres.server().connect(db.database()); var st = conn.createStatement();
                 var rs = st.executeQuery("SELECT count(*) FROM trainer_checkpoint_archives")) {
                rs.next();
                assertEquals(2, rs.getInt(1), "only the newest two are kept");
            }
        }
    }
}
