package org.pairwise.launcher;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.pairwise.config.Field;
import org.pairwise.config.Schema;
import org.pairwise.config.Type;
import picocli.CommandLine.Model.ArgGroupSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * A config record's fields as picocli options: one per field (its aliases as further names, {@code --no-NAME} for a
 * negatable boolean), grouped by the schema's sections, described by the codec's help line with the default. Values
 * stay text: {@link #given} hands the flags the user typed to the codec, which parses them, so file, environment and
 * flags share one parser and one set of errors. A boolean flag alone means true ({@code --use-rslora}); it also takes
 * a value ({@code --gradient-checkpointing=false}).
 */
final class ConfigOptions {
    /** A command whose settings are a config record. */
    interface Command {
        ConfigOptions settings();
    }

    private final Schema<?> schema;
    private final Map<OptionSpec, String> values = new LinkedHashMap<>();  // option -> field name
    private final Map<OptionSpec, String> negations = new LinkedHashMap<>();

    ConfigOptions(Schema<?> schema) {
        this.schema = schema;
    }

    Schema<?> schema() {
        return schema;
    }

    /** Adds one option per field to {@code spec}, a group per section. */
    void addTo(CommandSpec spec) {
        // Fields in the record's order (TRL's groupings), and a synopsis that does not list dozens of them.
        spec.usageMessage().sortOptions(false).abbreviateSynopsis(true);
        for (Schema.Section section : schema.sections()) {
            ArgGroupSpec.Builder group = ArgGroupSpec.builder().heading("%n" + escape(section.title()) + ":%n")
                    .exclusive(false).validate(false).multiplicity("0..1");
            for (Field<?> f : section.fields()) {
                OptionSpec o = option(schema, f);
                group.addArg(o);
                values.put(o, f.name());
                if (f.negatable()) {
                    OptionSpec no = OptionSpec.builder("--no-" + f.flag().substring(2)).arity("0").type(boolean.class)
                            .description("Same as " + f.flag() + "=false.").build();
                    group.addArg(no);
                    negations.put(no, f.name());
                }
            }
            spec.addArgGroup(group.build());
        }
    }

    /**
     * The option of one field: its flag and aliases, its help line with the default, its value as text. A command
     * that needs one field of a record adds just this option (see ScoreCommand).
     */
    static OptionSpec option(Schema<?> schema, Field<?> f) {
        List<String> names = new ArrayList<>(List.of(f.flag()));
        schema.aliasesOf(f.name()).forEach(a -> names.add("--" + a.replace('_', '-')));
        boolean flag = f.type() == Type.BOOLEAN, list = f.type().javaType() == List.class;
        OptionSpec.Builder b = OptionSpec.builder(names.toArray(String[]::new))
                .type(list ? List.class : String.class).auxiliaryTypes(String.class).arity(flag ? "0..1" : "1")
                .paramLabel(f.type().label()).description(escape(f.description()));
        return (flag ? b.fallbackValue("true") : b).build();
    }

    /** The fields set on the command line, by name, as text. */
    Map<String, String> given(CommandSpec spec) {
        ParseResult parsed = spec.commandLine().getParseResult();
        Map<String, String> out = new LinkedHashMap<>();
        values.forEach((o, name) -> {
            if (parsed.hasMatchedOption(o)) {
                Object v = o.getValue();
                out.put(name, v instanceof List<?> l ? String.join(",", l.stream().map(String::valueOf).toList())
                        : String.valueOf(v));
            }
        });
        negations.forEach((o, name) -> {
            if (parsed.hasMatchedOption(o)) {
                out.put(name, "false");
            }
        });
        return out;
    }

    /** picocli reads descriptions as format strings. */
    private static String escape(String s) {
        return s.replace("%", "%%");
    }
}
