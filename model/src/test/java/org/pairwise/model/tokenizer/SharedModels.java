package org.pairwise.model.tokenizer;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The checked-in reference files (../shared/models); tests that need them are skipped where they are absent. */
final class SharedModels {

    private SharedModels() {}

    /** {@code sub} under the shared models folder; skips the calling test (with the reason) when it is missing. */
    static Path require(String sub) {
        String property = System.getProperty("pairwise.shared.models");
        Path found = Stream.of(property == null ? null : Path.of(property),
                        Path.of("../shared/models"), Path.of("../../shared/models"))
                .filter(p -> p != null)
                .map(p -> p.resolve(sub))
                .filter(Files::exists)
                .findFirst()
                .orElse(null);
        assumeTrue(found != null, "shared model files not found: " + sub
                + " (set -Dpairwise.shared.models or check out ../shared/models)");
        return found.toAbsolutePath().normalize();
    }
}
