package org.pairwise.accel;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/**
 * The tornadovm side of the conformance suite as seen from the default build's JVM, which never carries TornadoVM's
 * runtime flags: selecting the backend here must fail with the install instructions, auto must fall back to cpu, and
 * where the SDK is installed the tornado conformance suite must have been compiled (it runs in its own surefire
 * execution with the SDK's argfile: org.pairwise.accel.tornado.TornadoConformanceTest).
 */
class BackendConformanceTornadoTest {
    @Test
    void tornadovmWithoutItsRuntimeFailsWithInstallInstructions() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backends.open("tornadovm", 1));
        assertEquals(Backends.TORNADO_MISSING, e.getMessage());
    }

    @Test
    void autoFallsBackToCpuWithoutATornadoGpu() {
        try (Backend b = Backends.open("auto", 1)) {
            assertEquals("cpu", b.name());
        }
    }

    @Test
    void tornadoConformanceIsBuiltWhereTheSdkIsInstalled() {
        assumeTrue(Files.exists(Backends.TORNADO_ARGFILE),
                "TornadoVM SDK not installed under /opt/tornadovm: tornado conformance skipped");
        assertDoesNotThrow(() -> Class.forName("org.pairwise.accel.tornado.TornadoConformanceTest", false,
                getClass().getClassLoader()), "the tornadovm profile should compile src/tornado-test/java");
    }
}
