package org.pairwise.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Bad usage, of any kind, is exit status 2 and one line {@code pairwise: error: ...}: a setting of the wrong type or
 * out of range (named, with what was expected), an unknown option, a missing required option, a value picocli cannot
 * convert. Each case fails before a model loads or a server starts.
 */
class UsageErrorsTest {
    static void assertUsageError(CliTest.Result r, String... fragments) {
        assertEquals(Main.EXIT_USAGE, r.code(), r.out() + r.err());
        String[] lines = r.err().strip().split("\n");
        assertEquals(1, lines.length, "one line: " + r.err());
        assertTrue(lines[0].startsWith("pairwise: error: "), r.err());
        for (String f : fragments) {
            assertTrue(lines[0].contains(f), "'" + lines[0] + "' lacks '" + f + "'");
        }
    }

    @Test
    void aSettingOfTheWrongTypeNamesTheFieldAndTheExpectedType() {
        assertUsageError(CliTest.run("train", "--data", "pairs.jsonl", "--beta", "abc"),
                "beta: 'abc' is not a number");
        assertUsageError(CliTest.run("train", "--data", "pairs.jsonl", "--max-steps", "2.5"),
                "max_steps: '2.5' is not a whole number");
        assertUsageError(CliTest.run("train", "--data", "pairs.jsonl", "--use-rslora=maybe"),
                "use_rslora: 'maybe' is not a boolean");
        assertUsageError(CliTest.run("train", "--data", "pairs.jsonl", "--lr-scheduler-type", "steep"),
                "lr_scheduler_type: unknown 'steep' (expected one of linear, cosine");
        assertUsageError(CliTest.run("serve", "--port", "eighty"), "port: 'eighty' is not a whole number");
        assertUsageError(CliTest.run("serve", "--batch-size", "0"), "per_device_train_batch_size: must be >= 1");
        assertUsageError(CliTest.run("loadtest", "--url", "http://127.0.0.1:9", "--votes", "5", "--timeout", "soon"),
                "timeout: 'soon' is not a duration");
    }

    @Test
    void picocliOwnErrorsCarryThePrefixAndSayWhereHelpIs() {
        assertUsageError(CliTest.run("serve", "--colour", "red"), "unknown option '--colour'",
                "see 'pairwise serve --help'");
        assertUsageError(CliTest.run("train", "--data", "pairs.jsonl", "--learning-rat", "1e-5"),
                "unknown option '--learning-rat'", "did you mean --learning-rate");
        assertUsageError(CliTest.run("train"), "missing required option", "--data");
        assertUsageError(CliTest.run("generate", "--max-new-tokens", "x"), "'--max-new-tokens'", "'x'",
                "see 'pairwise generate --help'");
        assertUsageError(CliTest.run("bench", "--dtype", "Q4"), "--dtype");
        assertUsageError(CliTest.run("colour"), "colour");
        assertUsageError(CliTest.run(), "a subcommand is required");
    }
}
