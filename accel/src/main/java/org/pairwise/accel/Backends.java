package org.pairwise.accel;

import org.pairwise.accel.cpu.CpuBackend;

/** Opens a backend by its CLI name. */
public final class Backends {
    private Backends() {}

    /** {@code threads <= 0} means one per available processor. */
    public static Backend open(String name, int threads) {
        int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        return switch (name) {
            case "cpu", "auto" -> new CpuBackend(n);
            default -> throw new IllegalArgumentException("unknown backend '" + name + "' (known: cpu, auto)");
        };
    }
}
