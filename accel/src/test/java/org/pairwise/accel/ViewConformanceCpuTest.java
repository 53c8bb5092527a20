package org.pairwise.accel;

import org.pairwise.accel.cpu.CpuBackend;

/** The view conformance suite on a single-threaded cpu backend, against whole tensors on the reference. */
class ViewConformanceCpuTest extends ViewConformance {
    @Override
    protected Backend open() {
        return new CpuBackend(1);
    }
}
