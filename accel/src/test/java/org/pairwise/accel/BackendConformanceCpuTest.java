package org.pairwise.accel;

import org.pairwise.accel.cpu.CpuBackend;

/**
 * The conformance suite on a single-threaded cpu backend against the multi-threaded reference: it keeps the suite
 * itself exercised in every build, and checks that the cpu kernels do not depend on how work is split.
 */
class BackendConformanceCpuTest extends BackendConformance {
    @Override
    protected Backend open() {
        return new CpuBackend(1);
    }
}
