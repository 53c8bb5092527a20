package org.pairwise.launcher;

import com.fasterxml.jackson.core.type.TypeReference;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.pairwise.model.Engine;
import org.pairwise.model.engine.Generation;
import org.pairwise.model.engine.Generator;
import org.pairwise.model.sample.SamplingParams;
import org.pairwise.model.tokenizer.StreamingDecoder;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "generate", description = "Generate a continuation of a prompt (or a chat reply to messages).")
final class GenerateCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @ArgGroup(exclusive = true)
    Input input = new Input();

    static final class Input {
        @Option(names = "--prompt", description = "Prompt text; empty (the default) starts from BOS alone.")
        String prompt = "";

        @Option(names = "--messages", paramLabel = "JSON",
                description = "A conversation [{\"role\":..., \"content\":...}], rendered with the chat template.")
        String messages;
    }

    @Option(names = "--max-new-tokens", defaultValue = "256", description = "Default: ${DEFAULT-VALUE}.")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "1.0", description = "0 is greedy. Default: ${DEFAULT-VALUE}.")
    double temperature;

    @Option(names = "--top-p", defaultValue = "1.0", description = "Nucleus sampling mass. Default: ${DEFAULT-VALUE}.")
    double topP;

    @Option(names = "--top-k", defaultValue = "0",
            description = "Keep the k most likely tokens (0: all). Default: ${DEFAULT-VALUE}.")
    int topK;

    @Option(names = "--seed", defaultValue = "42", description = "Sampling seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--greedy", description = "Argmax decoding (same as --temperature 0).")
    boolean greedy;

    @Option(names = "--json", description = "Print {prompt_ids, token_ids, text, logprobs, finish_reason} as JSON.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        SamplingParams params = new SamplingParams(maxNewTokens, greedy ? 0 : temperature, topP, topK, seed);
        try (Engine engine = modelOptions.open()) {
            int[] prompt = input.messages != null ? engine.encodeChat(parseMessages(input.messages))
                    : engine.encodePrompt(input.prompt);
            StreamingDecoder stream = engine.tokenizer().streamingDecoder(true);
            Generation g = new Generator(engine.model()).generate(prompt, params, (id, lp) -> {
                if (!json) {
                    out.print(stream.accept(id));
                    out.flush();
                }
                return true;
            });
            if (json) {
                Map<String, Object> result = new LinkedHashMap<>();
                result.put("prompt_ids", g.promptIds());
                result.put("token_ids", g.tokenIds());
                result.put("text", engine.tokenizer().decode(g.tokenIds(), true));
                result.put("logprobs", g.logprobs());
                result.put("finish_reason", g.finishReason());
                out.println(Json.MAPPER.writeValueAsString(result));
            } else {
                out.println(stream.flush());
            }
        }
        return 0;
    }

    static List<Map<String, Object>> parseMessages(String text) {
        List<Map<String, Object>> messages;
        try {
            messages = Json.MAPPER.readValue(text, new TypeReference<>() {});
        } catch (Exception e) {
            throw new IllegalArgumentException("--messages is not a JSON list of {role, content}: " + Main.oneLine(e));
        }
        for (Map<String, Object> m : messages) {
            if (!(m.get("role") instanceof String) || !m.containsKey("content")) {
                throw new IllegalArgumentException("--messages: every message needs a string role and a content: " + m);
            }
        }
        return messages;
    }
}
