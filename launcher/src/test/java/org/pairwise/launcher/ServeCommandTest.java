package org.pairwise.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import org.pairwise.server.config.ServeConfig;

class ServeCommandTest {
    @Test
    void helpDocumentsEverySettingAndTheRequiredFlags() {
        StringWriter out = new StringWriter(), err = new StringWriter();
        assertEquals(0, Main.run(new String[] {"serve", "--help"}, new PrintWriter(out), new PrintWriter(err)));
        String help = out.toString();
        for (String field : ServeConfig.DOCS.keySet()) {
            assertTrue(help.contains("--" + field.replace('_', '-')), "--help lacks " + field);
        }
        for (String flag : new String[] {"--model", "--adapter", "--backend", "--port", "--data-dir", "--admin-token",
                "--prompts", "--batch-size", "--gradient-accumulation-steps", "--publish-every", "--save-steps",
                "--beta", "--learning-rate", "--loss-type", "--max-new-tokens", "--temperature"}) {
            assertTrue(help.contains(flag), "--help lacks " + flag);
        }
    }

    @Test
    void unknownFlagsAreUsageErrors() {
        StringWriter out = new StringWriter(), err = new StringWriter();
        assertEquals(2, Main.run(new String[] {"serve", "--colour", "red"}, new PrintWriter(out),
                new PrintWriter(err)));
        assertTrue(err.toString().contains("unknown option '--colour'"), err.toString());
    }

    @Test
    void badValuesFailBeforeStartingWithOneLine() {
        StringWriter out = new StringWriter(), err = new StringWriter();
        assertEquals(2, Main.run(new String[] {"serve", "--port", "99999"}, new PrintWriter(out),
                new PrintWriter(err)));
        assertTrue(err.toString().startsWith("pairwise: error: port: must be in 0..65535"), err.toString());
    }
}
