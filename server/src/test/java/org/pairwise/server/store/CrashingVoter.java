package org.pairwise.server.store;

import java.nio.file.Path;
import java.util.concurrent.Semaphore;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.PreferenceStore.VoteRequest;
import org.pairwise.server.store.PreferenceStore.VoteResult;

/**
 * Run in a child JVM by {@link CrashDurabilityTest} on the store its argument names (sqlite:PATH or a PostgreSQL URL):
 * votes without end and prints "ACK id" for each acknowledged vote,
 * until the test kills it with SIGKILL. It never closes the store.
 */
public final class CrashingVoter {
    private CrashingVoter() {}

    public static void main(String[] args) throws Exception {
        var store = StoreLocation.parse(args[0], Path.of(".")).open(1024);
        Fixtures.addPairs(store, 4);
        System.out.println("READY");
        System.out.flush();
        Semaphore inFlight = new Semaphore(64); // like 64 people voting at once
        for (long i = 0; ; i++) {
            inFlight.acquire();
            store.recordVote(new VoteRequest("p" + i % 4, i % 2 == 0 ? Choice.A : Choice.B, null, "v" + i, null))
                    .whenComplete((r, e) -> {
                        if (r instanceof VoteResult.Created c) {
                            System.out.println("ACK " + c.vote().id());
                            System.out.flush();
                        }
                        inFlight.release();
                    });
        }
    }
}
