package org.pairwise.accel.tornado;

import java.util.concurrent.atomic.AtomicLong;

/** Running counts of host-device copies made by a backend's graphs (one copy = one array moved one way). */
public final class Transfers {
    final AtomicLong toDevice = new AtomicLong();
    final AtomicLong toHost = new AtomicLong();
    final AtomicLong bytesToDevice = new AtomicLong();
    final AtomicLong bytesToHost = new AtomicLong();
    final AtomicLong executions = new AtomicLong();

    void add(int in, long inBytes, int out, long outBytes) {
        toDevice.addAndGet(in);
        bytesToDevice.addAndGet(inBytes);
        toHost.addAndGet(out);
        bytesToHost.addAndGet(outBytes);
    }

    /** The counts so far. */
    public Snapshot snapshot() {
        return new Snapshot(toDevice.get(), toHost.get(), bytesToDevice.get(), bytesToHost.get(), executions.get());
    }

    /** Copies and bytes each way, and how many graph executions made them. */
    public record Snapshot(long toDevice, long toHost, long bytesToDevice, long bytesToHost, long executions) {
        public Snapshot minus(Snapshot o) {
            return new Snapshot(toDevice - o.toDevice, toHost - o.toHost, bytesToDevice - o.bytesToDevice,
                    bytesToHost - o.bytesToHost, executions - o.executions);
        }

        public long copies() {
            return toDevice + toHost;
        }
    }
}
