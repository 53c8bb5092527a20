package org.pairwise.launcher;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.concurrent.Callable;
import org.pairwise.model.Engine;
import org.pairwise.model.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "tokenize", description = "Print the token ids (and pieces) of a text.")
final class TokenizeCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--text", required = true, description = "The text to tokenize.")
    String text;

    @Option(names = "--no-special-tokens", description = "Do not add BOS/EOS as the tokenizer's post-processor would.")
    boolean noSpecial;

    @Option(names = "--json", description = "Print {ids, tokens} as JSON.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        try (Engine engine = modelOptions.open()) {
            Tokenizer tok = engine.tokenizer();
            int[] ids = tok.encode(text, !noSpecial);
            String[] pieces = Arrays.stream(ids).mapToObj(tok::tokenText).toArray(String[]::new);
            if (json) {
                out.println(Json.MAPPER.writeValueAsString(java.util.Map.of("ids", ids, "tokens", pieces)));
            } else {
                out.println(String.join(" ", Arrays.stream(ids).mapToObj(Integer::toString).toArray(String[]::new)));
                out.println(String.join(" ", Arrays.stream(pieces).map(p -> "'" + p + "'").toArray(String[]::new)));
                out.println(ids.length + " tokens");
            }
        }
        return 0;
    }
}
