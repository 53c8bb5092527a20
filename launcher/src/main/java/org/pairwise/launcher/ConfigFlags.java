package org.pairwise.launcher;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The configuration flags a command does not declare one by one (every field of a config record): --kebab-name VALUE,
 * --kebab-name=VALUE, or a bare --flag meaning true. Unknown names are usage errors (exit 2).
 */
final class ConfigFlags {
    private ConfigFlags() {}

    /** @param known takes a field name (kebab-case as given); what names the command for the error message */
    static Map<String, String> parse(List<String> args, CommandSpec spec, Predicate<String> known, String what) {
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (!a.startsWith("--")) {
                throw new CommandLine.ParameterException(spec.commandLine(), "unexpected argument '" + a + "'");
            }
            String name = a.substring(2), value;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else if (i + 1 < args.size() && !args.get(i + 1).startsWith("--")) {
                value = args.get(++i);
            } else {
                value = "true";
            }
            if (!known.test(name)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "unknown option '--" + name + "' ("
                        + what + "; see pairwise " + spec.name() + " --help)");
            }
            out.put(name, value);
        }
        return out;
    }
}
