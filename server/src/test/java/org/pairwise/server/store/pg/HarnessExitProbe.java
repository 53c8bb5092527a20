package org.pairwise.server.store.pg;

/**
 * A separate JVM for {@link PostgresHarnessTest}: starts a harness, prints "READY directory postmasterPid", then
 * either returns from main without closing it (the shutdown hook must clean up) or, with "wait", sleeps until the
 * test kills it with SIGKILL (the next harness start must reap the orphan).
 */
public final class HarnessExitProbe {
    private HarnessExitProbe() {}

    public static void main(String[] args) throws Exception {
        PostgresHarness h = PostgresHarness.start();
        String pid = java.nio.file.Files.readAllLines(h.directory().resolve("data").resolve("postmaster.pid")).getFirst();
        System.out.println("READY " + h.directory() + " " + pid.trim());
        System.out.flush();
        if (args.length > 0 && args[0].equals("wait")) {
            Thread.sleep(600_000);
        }
    }
}
