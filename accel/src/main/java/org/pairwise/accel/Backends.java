package org.pairwise.accel;

import java.lang.reflect.InvocationTargetException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.pairwise.accel.cpu.CpuBackend;

/** Opens a backend by its CLI name. */
public final class Backends {
    private Backends() {}

    /** Where the TornadoVM SDK is expected; its argfile carries the JVM flags the runtime needs. */
    public static final Path TORNADO_ARGFILE = Path.of("/opt/tornadovm/tornado-argfile");

    static final String TORNADO_MISSING = "TornadoVM is not installed: install the SDK under /opt/tornadovm (see README)"
            + " and run with --backend tornadovm through bin/pairwise, which adds its JVM flags";

    private static final String TORNADO_CLASS = "org.pairwise.accel.tornado.TornadoBackend";

    /** {@code threads <= 0} means one per available processor. */
    public static Backend open(String name, int threads) {
        int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        return switch (name) {
            case "cpu" -> new CpuBackend(n);
            case "tornadovm" -> openTornado(n);
            case "auto" -> tornadoGpu() ? openTornado(n) : new CpuBackend(n);
            default -> throw new IllegalArgumentException("unknown backend '" + name + "' (known: cpu, tornadovm, auto)");
        };
    }

    // The tornadovm backend is compiled only where the SDK is (a source root the tornadovm profile adds), and its
    // classes link only in a JVM started with the SDK's argfile (which sets tornado.load.runtime.implementation), so
    // both are checked before touching it. It is found by name: this class cannot refer to it at compile time without
    // the SDK, and a module of its own would still be found at run time (by name or a ServiceLoader), with a pom,
    // a profile in the parent and one in every module that runs it on top; one name in one place is the least.
    private static Backend openTornado(int threads) {
        if (System.getProperty("tornado.load.runtime.implementation") == null) {
            throw new IllegalArgumentException(TORNADO_MISSING);
        }
        try {
            return (Backend) Class.forName(TORNADO_CLASS).getConstructor(int.class).newInstance(threads);
        } catch (ReflectiveOperationException | LinkageError e) {
            Throwable cause = e instanceof InvocationTargetException ite ? ite.getCause() : e;
            throw new IllegalArgumentException(TORNADO_MISSING + " (" + cause + ")", cause);
        }
    }

    /** True when the SDK is installed, this JVM runs its runtime, and its default device is a GPU. */
    static boolean tornadoGpu() {
        if (!Files.exists(TORNADO_ARGFILE) || System.getProperty("tornado.load.runtime.implementation") == null) {
            return false;
        }
        try {
            return (Boolean) Class.forName(TORNADO_CLASS).getMethod("defaultDeviceIsGpu").invoke(null);
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            return false;
        }
    }
}
