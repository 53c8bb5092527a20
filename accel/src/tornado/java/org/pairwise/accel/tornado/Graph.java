package org.pairwise.accel.tornado;

import java.util.concurrent.atomic.AtomicLong;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray;

/**
 * One kernel's TaskGraph and its execution plan, built once per (kernel, shape[, weight]) and executed many times.
 * The graph records what it moves, so {@link Transfers} counts every host-device copy TornadoVM makes for it:
 * arrays declared every-execution move on each run, first-execution ones (frozen weights, device-only scratch) on
 * the first run only.
 */
final class Graph implements AutoCloseable {
    private static final AtomicLong SEQ = new AtomicLong();

    final TaskGraph tasks;
    private final Transfers transfers;
    private TornadoExecutionPlan plan;
    private boolean executed;
    private int everyIn, everyOut, firstIn;
    private long everyInBytes, everyOutBytes, firstInBytes;

    Graph(String kernel, Transfers transfers) {
        this.tasks = new TaskGraph(kernel + SEQ.incrementAndGet());
        this.transfers = transfers;
    }

    /** Host to device before every execution (inputs, and gradients that kernels accumulate into). */
    Graph everyRun(TornadoNativeArray... arrays) {
        tasks.transferToDevice(DataTransferMode.EVERY_EXECUTION, (Object[]) arrays);
        everyIn += arrays.length;
        everyInBytes += bytes(arrays);
        return this;
    }

    /** Host to device on the first execution only: frozen weights, tables, device-only scratch. */
    Graph firstRun(TornadoNativeArray... arrays) {
        tasks.transferToDevice(DataTransferMode.FIRST_EXECUTION, (Object[]) arrays);
        firstIn += arrays.length;
        firstInBytes += bytes(arrays);
        return this;
    }

    /** Device to host after every execution. */
    Graph back(TornadoNativeArray... arrays) {
        tasks.transferToHost(DataTransferMode.EVERY_EXECUTION, (Object[]) arrays);
        everyOut += arrays.length;
        everyOutBytes += bytes(arrays);
        return this;
    }

    Graph seal() {
        plan = new TornadoExecutionPlan(tasks.snapshot());
        return this;
    }

    void execute() {
        plan.execute();
        if (!executed) {
            executed = true;
            transfers.add(firstIn, firstInBytes, 0, 0);
        }
        transfers.add(everyIn, everyInBytes, everyOut, everyOutBytes);
        transfers.executions.incrementAndGet();
    }

    @Override
    public void close() {
        if (plan != null) {
            try {
                plan.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing the TornadoVM plan of " + tasks.getTaskGraphName(), e);
            }
        }
    }

    private static long bytes(TornadoNativeArray[] arrays) {
        long b = 0;
        for (TornadoNativeArray a : arrays) {
            b += a.getNumBytesOfSegment();
        }
        return b;
    }
}
