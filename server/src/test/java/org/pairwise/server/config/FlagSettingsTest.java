package org.pairwise.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.pairwise.config.ConfigException;
import org.pairwise.server.quality.FlagRule;

/** The automatic flags' settings: off by default, set by flag, environment or file, bad values named. */
class FlagSettingsTest {
    @Test
    void offByDefaultAndOnWithAThreshold() throws Exception {
        ServeConfig d = ServeConfig.defaults();
        assertNull(d.flagMinGoldAccuracy());
        assertNull(d.flagMinAgreement());
        assertEquals(10, d.flagMinVotes());
        assertTrue(d.excludeFlagged());
        assertFalse(d.flagRule().on());

        ServeConfig flags = ServeConfig.load(null, Map.of("PAIRWISE_FLAG_MIN_AGREEMENT", "0.6"),
                Map.of("flag-min-gold-accuracy", "0.7", "flag-min-votes", "20"));
        assertEquals(new FlagRule(0.7, 0.6, 20), flags.flagRule());
        assertTrue(flags.flagRule().on());
        assertNull(flags.withOverrides(Map.of("flag_min_gold_accuracy", "none")).flagMinGoldAccuracy());
    }

    @Test
    void badValuesNameTheirField() {
        for (var bad : Map.of("flag_min_gold_accuracy", "1.5", "flag_min_agreement", "-0.1", "flag_min_votes", "0")
                .entrySet()) {
            var e = assertThrows(ConfigException.class,
                    () -> ServeConfig.defaults().withOverrides(Map.of(bad.getKey(), bad.getValue())));
            assertTrue(e.getMessage().startsWith(bad.getKey() + ": "), e.getMessage());
        }
    }
}
