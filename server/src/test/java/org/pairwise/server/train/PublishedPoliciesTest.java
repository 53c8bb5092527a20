package org.pairwise.server.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pairwise.accel.Backend;
import org.pairwise.accel.Backends;
import org.pairwise.model.DemoModel;
import org.pairwise.model.Engine;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.model.lora.LoraConfig;

/** keep_versions on real adapter directories: the newest N stay, pinned ones always, pins survive a restart. */
class PublishedPoliciesTest {
    @TempDir
    Path dir;

    @Test
    void theNewestVersionsAndThePinnedOnesAreKept() throws Exception {
        try (Engine engine = Engine.open(DemoModel.SPEC, null, "cpu", 1)) {
            Backend be = engine.backend();
            LoraAdapter a = LoraAdapter.create(new LoraConfig(2, 4, LoraConfig.ALL_TARGETS, 0, false, "test"),
                    engine.config(), be, 1);
            PublishedPolicies p = new PublishedPolicies(dir.resolve("policy"), null, 2);
            p.save(a, be, 1);
            p.save(a, be, 2);
            p.pin("first", 1);
            assertThrows(IllegalArgumentException.class, () -> p.pin("nope", 7), "v7 is not kept");
            for (int v = 3; v <= 6; v++) {
                p.save(a, be, v);
            }
            assertEquals(List.of(0, 1, 5, 6), p.kept(), "the newest two, v0 and the pinned v1");
            assertTrue(Files.isRegularFile(p.existing(1).resolve("adapter_config.json")));
            assertEquals(null, p.existing(3));

            PublishedPolicies again = new PublishedPolicies(dir.resolve("policy"), null, 2);
            assertEquals(Map.of("first", 1), again.pins(), "pins are on disk");
            again.pin("first", 6);  // a name pinned again moves
            assertTrue(again.unpin("first"));
            assertFalse(again.unpin("first"));
            again.save(a, be, 7);
            assertEquals(List.of(0, 6, 7), again.kept(), "unpinned, v1 goes at the next save");
        }
    }
}
