package org.pairwise.accel;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.pairwise.accel.cpu.CpuBackend;

/** A suite that holds a backend to the cpu reference: both are opened once for the suite and closed after it. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class AgainstReference {
    private CpuBackend ref;
    private Backend be;

    /** The backend under test; closed after the suite. */
    protected abstract Backend open();

    protected Backend backend() {
        return be;
    }

    /** The multi-threaded cpu backend every other backend is held to. */
    protected CpuBackend reference() {
        return ref;
    }

    @BeforeAll
    void openBackends() {
        ref = new CpuBackend(2);
        be = open();
    }

    @AfterAll
    void closeBackends() {
        be.close();
        ref.close();
    }
}
