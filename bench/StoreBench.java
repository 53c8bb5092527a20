import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.pairwise.server.store.PreferenceStore;
import org.pairwise.server.store.PreferenceStore.Choice;
import org.pairwise.server.store.PreferenceStore.PairRecord;
import org.pairwise.server.store.PreferenceStore.VoteRequest;
import org.pairwise.server.store.PreferenceStore.VoteResult;
import org.pairwise.server.store.SqlitePreferenceStore;

/**
 * Run by bench/store-bench.sh: the product's store below HTTP. CLIENTS closed-loop clients each record their next
 * vote (its own idempotency key; named or anonymous) once the last is acknowledged; VOTES votes after a warm-up of a
 * quarter as many. Prints votes/s, p50 and p99 acknowledgement latency and votes per transaction.
 * Args: STORE (sqlite:PATH or a PostgreSQL URL) CLIENTS VOTES NAMED(true|false) LABEL
 */
public class StoreBench {
    public static void main(String[] a) throws Exception {
        String spec = a[0];
        int clients = Integer.parseInt(a[1]), votes = Integer.parseInt(a[2]);
        boolean named = Boolean.parseBoolean(a[3]);
        // SqlitePreferenceStore(Path, int) is the constructor every build has, and the rest is looked up by name: the
        // same program runs on builds from before the PostgreSQL store (CLASSES in store-bench.sh).
        PreferenceStore store = spec.startsWith("sqlite:") ? new SqlitePreferenceStore(Path.of(spec.substring(7)),
                10_000) : postgres(spec);
        long prompt = store.addPrompt("bench", "the prompt", null).join();
        int pairs = 997;
        for (int i = 0; i < pairs; i++) {
            store.addPair(new PairRecord("p" + i, prompt, "the prompt", new int[] {1, 2, 3}, "a", new int[] {4, 5},
                    new float[] {-1f, -2f}, "stop", "b", new int[] {6, 7}, new float[] {-1f, -2f}, "stop", true, 0,
                    null, 0)).join();
        }
        run(store, clients, votes / 4, named, "w", pairs);
        long tx0 = transactions(store), w0 = writes(store);
        double[] r = run(store, clients, votes, named, "r", pairs);
        double perTx = (double) (writes(store) - w0) / Math.max(1, transactions(store) - tx0);
        System.out.printf("%-12s %-9s %8d %9.0f %9.2f %9.2f %10.1f%n", a[4], named ? "named" : "anonymous",
                clients, r[0], r[1], r[2], perTx);
        store.close();
    }

    static PreferenceStore postgres(String spec) throws Exception {
        Object at = Class.forName("org.pairwise.server.store.StoreLocation").getMethod("parse", String.class,
                Path.class).invoke(null, spec, Path.of("."));
        return (PreferenceStore) at.getClass().getMethod("open", int.class).invoke(at, 10_000);
    }

    static long transactions(PreferenceStore s) throws Exception {
        return (long) s.getClass().getMethod("transactionsCommitted").invoke(s);
    }

    static long writes(PreferenceStore s) throws Exception {
        return (long) s.getClass().getMethod("writesCommitted").invoke(s);
    }

    static double[] run(PreferenceStore store, int clients, int votes, boolean named, String tag, int pairs)
            throws Exception {
        long[] lat = new long[votes];
        AtomicInteger next = new AtomicInteger();
        ExecutorService people = Executors.newFixedThreadPool(clients);
        long t0 = System.nanoTime();
        List<Future<?>> done = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            done.add(people.submit(() -> {
                for (int i; (i = next.getAndIncrement()) < votes; ) {
                    long s = System.nanoTime();
                    // 5,000 named people: vote i is person i % 5000's on pair i % 997, never twice the same pair.
                    String annotator = named ? tag + "-ann" + (i % 5000) : null;
                    VoteResult v = store.recordVote(new VoteRequest("p" + (i % pairs), i % 2 == 0 ? Choice.A
                            : Choice.B, annotator, tag + "-" + i, null)).get(60, TimeUnit.SECONDS);
                    if (!(v instanceof VoteResult.Created)) {
                        throw new IllegalStateException("not stored: " + v);
                    }
                    lat[i] = System.nanoTime() - s;
                }
                return null;
            }));
        }
        for (var f : done) {
            f.get();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        people.shutdown();
        Arrays.sort(lat);
        return new double[] {votes / seconds, lat[votes / 2] / 1e6, lat[(int) (votes * 0.99)] / 1e6};
    }
}
