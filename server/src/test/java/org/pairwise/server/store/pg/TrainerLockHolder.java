package org.pairwise.server.store.pg;

import java.nio.file.Path;
import org.pairwise.server.store.StoreLocation;
import org.pairwise.server.store.TrainerLock;

/**
 * Run in a child JVM by {@link TrainerLockTest}: takes the trainer lock on the database its argument names, prints
 * "HELD" (or "BUSY"), and holds it until it is killed.
 */
public final class TrainerLockHolder {
    private TrainerLockHolder() {}

    public static void main(String[] args) throws Exception {
        var at = (StoreLocation.PostgresDatabase) StoreLocation.parse(args[0], Path.of("."));
        var lock = TrainerLock.tryAcquire(at);
        System.out.println(lock.isPresent() ? "HELD" : "BUSY");
        System.out.flush();
        Thread.sleep(600_000);  // the test kills it long before
    }
}
