package org.pairwise.launcher.align;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import org.pairwise.model.lora.LoraAdapter;

/** The policy a server serves, fetched over its admin API and loaded onto the probe's backend. */
final class PublishedAdapter {
    private PublishedAdapter() {}

    /** The adapter of policy {@code version}, or null when the server serves the base model. */
    static LoraAdapter download(ServerApi api, Path dir, int version, PolicyProbe probe)
            throws IOException, InterruptedException {
        int served = api.downloadAdapter(dir);
        if (served == -1) {
            if (version != 0) {
                throw new IllegalStateException("the server serves the base model, but its trainer is at policy "
                        + "version " + version);
            }
            return null;
        }
        if (served != version) {
            // The trainer is paused, so this means someone else resumed it or the generator lags: a measurement of
            // the wrong policy would be worse than none.
            throw new IllegalStateException("asked for policy version " + version + " but the server sent "
                    + served);
        }
        return LoraAdapter.load(dir, probe.config(), probe.engine().backend());
    }

    static void deleteRecursively(Path p) throws IOException {
        if (p == null || !Files.exists(p)) {
            return;
        }
        try (var walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
