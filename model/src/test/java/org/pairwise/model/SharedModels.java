package org.pairwise.model;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The read-only fixture models beside the checkout (../shared/models, or the pairwise.shared.models property that
 * surefire sets). Tests that need them skip, with the reason, where they are absent; tests that can fall back to the
 * built-in demo model use {@link #find}.
 */
public final class SharedModels {

    private SharedModels() {}

    /** {@code sub} under the shared models folder, if it is there. */
    public static Optional<Path> find(String sub) {
        String property = System.getProperty("pairwise.shared.models");
        return Stream.of(property == null ? null : Path.of(property),
                        Path.of("../shared/models"), Path.of("../../shared/models"))
                .filter(p -> p != null)
                .map(p -> p.resolve(sub))
                .filter(Files::exists)
                .findFirst()
                .map(p -> p.toAbsolutePath().normalize());
    }

    /** {@code sub} under the shared models folder; skips the calling test (with the reason) when it is missing. */
    public static Path require(String sub) {
        Optional<Path> found = find(sub);
        assumeTrue(found.isPresent(), "skipped: shared model files not found: " + sub
                + " (set -Dpairwise.shared.models or check out ../shared/models)");
        return found.get();
    }
}
