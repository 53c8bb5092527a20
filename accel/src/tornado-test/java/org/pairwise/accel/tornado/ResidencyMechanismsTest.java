package org.pairwise.accel.tornado;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.TornadoExecutionResult;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The TornadoVM 5.2 behaviours (on this machine's OpenCL device) that device residency of tensors has to be built on.
 * Device buffers belong to an execution plan, so these pin down what a plan can do without a host round trip.
 */
class ResidencyMechanismsTest {
    static void touch(FloatArray a) {
        a.set(0, a.get(0));
    }

    static void setFirst(FloatArray a) {
        a.set(0, 10f);
    }

    static void twice(FloatArray out, FloatArray x, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            out.set(i, 2f * x.get(i));
        }
    }

    @Test
    void underDemandOutputIsFetchedLaterEvenAfterAnotherPlanRan() throws Exception {
        FloatArray t = FloatArray.fromElements(1, 2, 3, 4);
        FloatArray u = FloatArray.fromElements(5, 6, 7, 8), v = new FloatArray(4);
        TaskGraph g = new TaskGraph("lazyOut").transferToDevice(DataTransferMode.EVERY_EXECUTION, t)
                .task("touch", ResidencyMechanismsTest::touch, t).task("first", ResidencyMechanismsTest::setFirst, t)
                .transferToHost(DataTransferMode.UNDER_DEMAND, t);
        TaskGraph other = new TaskGraph("other").transferToDevice(DataTransferMode.EVERY_EXECUTION, u)
                .task("t", ResidencyMechanismsTest::twice, v, u, 4).transferToHost(DataTransferMode.EVERY_EXECUTION, v);
        try (TornadoExecutionPlan p = new TornadoExecutionPlan(g.snapshot());
             TornadoExecutionPlan q = new TornadoExecutionPlan(other.snapshot())) {
            TornadoExecutionResult r = p.execute();
            assertEquals(1f, t.get(0), "nothing comes back until asked");
            q.execute();
            r.transferToHost(t);
            assertEquals(10f, t.get(0));
            assertEquals(4f, t.get(3), "the unwritten tail keeps the copied-in values");
        }
    }

    @Test
    void aLoadGraphRefreshesAResidentInputOnlyWhenRun() throws Exception {
        FloatArray x = FloatArray.fromElements(1, 2, 3), out = new FloatArray(3);
        TaskGraph load = new TaskGraph("load").transferToDevice(DataTransferMode.EVERY_EXECUTION, x)
                .task("touch", ResidencyMechanismsTest::touch, x).persistOnDevice(x);
        TaskGraph run = new TaskGraph("run").consumeFromDevice("load", x)
                .task("t", ResidencyMechanismsTest::twice, out, x, 3).transferToHost(DataTransferMode.EVERY_EXECUTION, out);
        ImmutableTaskGraph[] gs = {load.snapshot(), run.snapshot()};
        try (TornadoExecutionPlan p = new TornadoExecutionPlan(gs)) {
            p.withGraph(0).execute();
            p.withGraph(1).execute();
            assertEquals(6f, out.get(2));
            x.set(2, 30f);
            p.withGraph(1).execute();
            assertEquals(6f, out.get(2), "the device copy stays until the load graph runs");
            p.withGraph(0).execute();
            p.withGraph(1).execute();
            assertEquals(60f, out.get(2));
        }
    }
}
