package org.pairwise.accel.tornado;

import org.pairwise.accel.Backend;
import org.pairwise.accel.Backends;
import org.pairwise.accel.ViewConformance;

/** The view conformance suite on TornadoVM's default device, against whole tensors on the cpu reference. */
class TornadoViewConformanceTest extends ViewConformance {
    @Override
    protected Backend open() {
        return Backends.open("tornadovm", 2);
    }
}
