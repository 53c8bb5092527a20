package org.pairwise.accel.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A pool of threads - 1 workers that split index ranges with the calling thread; small jobs run inline on the caller.
 * Decode runs a few hundred short jobs per token (tens of microseconds each), back to back: a worker that went to sleep
 * after each would cost a wake-up per job, so workers spin for a while after a job before they park, and the caller
 * takes pieces itself instead of handing all of them off and waiting. Pieces are claimed from a shared counter, so a
 * slow participant (a busy machine) does not hold the others up.
 */
final class Parallel implements AutoCloseable {
    /** Below this many flops splitting costs more than it saves. */
    static final long INLINE_WORK = 1L << 18;
    /** How long an idle worker spins for the next job before it parks. */
    private static final long SPIN_NS = 50_000;

    interface Range {
        void run(int from, int to);
    }

    final int threads;
    /** Buffers the kernels borrow for a call (this pool serves one backend, whose callers may be several threads). */
    final Scratch scratch = new Scratch();
    private final Thread[] workers;
    private final ReentrantLock submit = new ReentrantLock();
    private volatile Job job;
    private volatile boolean closed;
    /** Set while the caller runs pieces: a body that splits again runs inline. */
    private final ThreadLocal<Boolean> running = ThreadLocal.withInitial(() -> false);

    Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = Thread.ofPlatform().name("pairwise-cpu-" + (i + 1)).daemon().unstarted(this::work);
            workers[i].start();
        }
    }

    /** Runs body over [0, n) in pieces of at least {@code grain} indices; {@code work} estimates the flops. */
    void forRange(int n, int grain, long work, Range body) {
        if (n <= 0) {
            return;
        }
        // Inline: no workers, too little work, a nested call, or another thread's job running (its caller and the
        // workers have the cores).
        if (workers.length == 0 || n <= grain || work < INLINE_WORK || running.get() || !submit.tryLock()) {
            body.run(0, n);
            return;
        }
        try {
            // A few pieces per thread balance uneven rows without paying for many tiny ones.
            int pieces = Math.max(1, Math.min((n + grain - 1) / grain, threads * 4));
            int per = (n + pieces - 1) / pieces;
            Job j = new Job(body, n, per, (n + per - 1) / per);
            job = j;
            for (Thread w : workers) {
                LockSupport.unpark(w);
            }
            running.set(true);
            try {
                j.runPieces();
            } finally {
                running.set(false);
            }
            j.awaitDone();
            job = null;
            j.rethrow();
        } finally {
            submit.unlock();
        }
    }

    private void work() {
        Job last = null;
        while (!closed) {
            Job j = job;
            if (j != null && j != last) {
                last = j;
                j.runPieces();
                continue;
            }
            long deadline = System.nanoTime() + SPIN_NS;
            while (job == j && !closed && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            if (job == j && !closed) {
                LockSupport.parkNanos(this, 10_000_000L);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
    }

    /** One forRange call: pieces claimed from a counter by the caller and the workers. */
    private static final class Job {
        private final Range body;
        private final int n;
        private final int per;
        private final int pieces;
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger done = new AtomicInteger();
        private volatile Throwable error;

        Job(Range body, int n, int per, int pieces) {
            this.body = body;
            this.n = n;
            this.per = per;
            this.pieces = pieces;
        }

        void runPieces() {
            int p;
            while ((p = next.getAndIncrement()) < pieces) {
                try {
                    body.run(p * per, Math.min(n, (p + 1) * per));
                } catch (Throwable t) {
                    error = t;
                } finally {
                    done.incrementAndGet();
                }
            }
        }

        void awaitDone() {
            for (int spins = 0; done.get() < pieces; spins++) {
                if (spins < 10_000) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
            }
        }

        void rethrow() {
            Throwable t = error;
            if (t instanceof RuntimeException e) {
                throw e;
            }
            if (t instanceof Error e) {
                throw e;
            }
        }
    }
}
