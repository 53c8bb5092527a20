package org.pairwise.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.pairwise.config.Field;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code --help} and {@code -h} on every subcommand that Main declares (a new subcommand is covered without touching
 * this test): exit 0, nothing on stderr, every option listed, and every option that takes a value states its default.
 */
class HelpTest {
    static Map<String, CommandLine> subcommands() {
        return Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()))
                .getSubcommands();
    }

    @Test
    void everySubcommandAnswersHelpWithEveryOptionAndItsDefault() {
        Map<String, CommandLine> subs = subcommands();
        assertTrue(subs.keySet().containsAll(List.of("generate", "score", "tokenize", "info", "bench", "train",
                "merge", "serve", "loadtest")), subs.keySet().toString());
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, CommandLine> sub : subs.entrySet()) {
            CommandSpec spec = sub.getValue().getCommandSpec();
            for (String flag : List.of("--help", "-h")) {
                CliTest.Result r = CliTest.run(sub.getKey(), flag);
                assertEquals(0, r.code(), sub.getKey() + " " + flag + ": " + r.err());
                assertEquals("", r.err().strip(), sub.getKey() + " " + flag);
                String help = flat(r.out());
                for (OptionSpec o : spec.options()) {
                    String entry = flat(rendered(spec, o));
                    String where = sub.getKey() + " " + flag + ", " + o.longestName() + ": ";
                    if (!help.contains(entry)) {
                        missing.add(where + "not in the help: " + entry);
                    }
                    if (o.arity().max() > 0 && !o.required() && !entry.contains("Default: ")) {
                        missing.add(where + "states no default: " + entry);
                    }
                    if (o.defaultValue() != null && !entry.contains("Default: " + o.defaultValue())) {
                        missing.add(where + "does not state its default " + o.defaultValue() + ": " + entry);
                    }
                }
            }
        }
        assertEquals(List.of(), missing);
    }

    @Test
    void aConfigRecordCommandHasAnOptionForEveryFieldWithTheCodecsDefault() {
        int commands = 0;
        for (Map.Entry<String, CommandLine> sub : subcommands().entrySet()) {
            if (sub.getValue().getCommand() instanceof ConfigOptions.Command c) {
                commands++;
                CommandSpec spec = sub.getValue().getCommandSpec();
                for (Field<?> f : c.settings().schema().fields()) {
                    OptionSpec o = spec.findOption(f.flag());
                    assertNotNull(o, sub.getKey() + " lacks " + f.flag());
                    String entry = flat(rendered(spec, o));
                    // Without white space: picocli wraps a long default (a list) after a comma.
                    assertTrue(entry.replaceAll("\\s", "").contains(("Default:" + f.defaultText() + ".")
                            .replaceAll("\\s", "")), sub.getKey() + ": " + entry);
                }
            }
        }
        assertEquals(3, commands, "train, serve and loadtest");
    }

    /** How picocli renders {@code o} in {@code spec}'s option list. */
    static String rendered(CommandSpec spec, OptionSpec o) {
        CommandLine.Help help = new CommandLine.Help(spec, CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF));
        CommandLine.Help.Layout layout = help.createDefaultLayout();
        layout.addOption(o, help.createDefaultParamLabelRenderer());
        return layout.toString();
    }

    /** Text with every run of white space as one space: line wrapping does not matter. */
    static String flat(String s) {
        return s.replaceAll("\\s+", " ").strip();
    }
}
