package org.pairwise.accel.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveAction;
import java.util.concurrent.atomic.AtomicInteger;

/** A dedicated fork/join pool that splits index ranges; small jobs run inline on the caller. */
final class Parallel implements AutoCloseable {
    /** Below this many flops a fork/join round trip (tens of microseconds) costs more than it saves. */
    static final long INLINE_WORK = 1L << 18;

    interface Range {
        void run(int from, int to);
    }

    final int threads;
    private final ForkJoinPool pool;

    Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        AtomicInteger ids = new AtomicInteger();
        this.pool = threads == 1 ? null : new ForkJoinPool(threads, p -> {
            ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
            t.setName("pairwise-cpu-" + ids.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, null, false);
    }

    /** Runs body over [0, n) in pieces of at least {@code grain} indices; {@code work} estimates the flops. */
    void forRange(int n, int grain, long work, Range body) {
        if (n <= 0) {
            return;
        }
        if (pool == null || n <= grain || work < INLINE_WORK) {
            body.run(0, n);
            return;
        }
        // A few pieces per thread balance uneven rows without paying for many tiny tasks.
        int pieces = Math.max(1, Math.min((n + grain - 1) / grain, threads * 4));
        int per = (n + pieces - 1) / pieces;
        Split task = new Split(body, 0, n, per);
        if (ForkJoinTask.getPool() == pool) {
            task.invoke();
        } else {
            pool.invoke(task);
        }
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdown();
        }
    }

    private static final class Split extends RecursiveAction {
        private final Range body;
        private final int from;
        private final int to;
        private final int per;

        Split(Range body, int from, int to, int per) {
            this.body = body;
            this.from = from;
            this.to = to;
            this.per = per;
        }

        @Override
        protected void compute() {
            if (to - from <= per) {
                body.run(from, to);
                return;
            }
            int pieces = (to - from + per - 1) / per;
            int mid = from + pieces / 2 * per;
            invokeAll(new Split(body, from, mid, per), new Split(body, mid, to, per));
        }
    }
}
