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

    static void addTo(FloatArray out, FloatArray x, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            out.set(i, out.get(i) + x.get(i));
        }
    }

    @Test
    void aChainOfGraphsPassesBuffersThroughGraphsThatDoNotUseThem() throws Exception {
        // g0 writes a from x; g1 writes b and only carries a; g2 adds b into a; the host fetches a and b after g2.
        FloatArray x = FloatArray.fromElements(1, 2, 3), a = new FloatArray(3), b = new FloatArray(3);
        FloatArray y = FloatArray.fromElements(10, 20, 30);
        TaskGraph g0 = new TaskGraph("c0").transferToDevice(DataTransferMode.EVERY_EXECUTION, x)
                .task("t", ResidencyMechanismsTest::twice, a, x, 3).persistOnDevice(a);
        TaskGraph g1 = new TaskGraph("c1").consumeFromDevice("c0", a).transferToDevice(DataTransferMode.EVERY_EXECUTION, y)
                .task("t", ResidencyMechanismsTest::twice, b, y, 3).persistOnDevice(a, b);
        TaskGraph g2 = new TaskGraph("c2").consumeFromDevice("c1", a, b)
                .task("t", ResidencyMechanismsTest::addTo, a, b, 3).persistOnDevice(a, b);
        try (TornadoExecutionPlan p = new TornadoExecutionPlan(g0.snapshot(), g1.snapshot(), g2.snapshot())) {
            for (int run = 1; run <= 3; run++) {
                x.set(0, run);
                TornadoExecutionResult r = null;
                for (int i = 0; i < 3; i++) {
                    r = p.withGraph(i).execute();
                }
                assertEquals(0f, a.get(0), "nothing comes back until asked");
                r.transferToHost(a, b);
                assertEquals(2f * run + 20f, a.get(0));
                assertEquals(44f, a.get(1), "run " + run);
                assertEquals(40f, b.get(1), "b crossed g2 without being written there");
                a.set(0, 0f);
            }
        }
    }

    @Test
    void aFirstGraphTakesItsBuffersFromALoadGraphOrFromTheLastGraphOfThePreviousRun() throws Exception {
        // load streams p and q down although its only task touches p; run consumes both (named from load) and
        // persists them. Run after run, run takes them from itself (the graph executed just before it) unless load ran.
        FloatArray p = FloatArray.fromElements(1, 2), q = FloatArray.fromElements(5, 6), out = new FloatArray(2);
        TaskGraph load = new TaskGraph("rl").transferToDevice(DataTransferMode.EVERY_EXECUTION, p, q)
                .task("touch", ResidencyMechanismsTest::touch, p).persistOnDevice(p, q);
        TaskGraph run = new TaskGraph("rr").consumeFromDevice("rl", p, q)
                .task("inc", ResidencyMechanismsTest::addTo, p, q, 2)
                .task("copy", ResidencyMechanismsTest::twice, out, p, 2)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, out).persistOnDevice(p, q);
        try (TornadoExecutionPlan plan = new TornadoExecutionPlan(load.snapshot(), run.snapshot())) {
            plan.withGraph(0).execute();
            plan.withGraph(1).execute();
            assertEquals(12f, out.get(0), "p = 1 + 5, doubled");
            plan.withGraph(1).execute();
            assertEquals(22f, out.get(0), "p stayed on the device: 6 + 5, doubled");
            assertEquals(1f, p.get(0), "and never came back");
            plan.withGraph(0).execute();
            plan.withGraph(1).execute();
            assertEquals(12f, out.get(0), "the load graph sent the host's p (and q) again");
        }
    }
}
