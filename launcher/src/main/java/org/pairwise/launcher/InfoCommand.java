package org.pairwise.launcher;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.pairwise.model.Engine;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.load.TensorData;
import org.pairwise.model.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "info", description = "Describe a model: architecture, sizes, dtypes, parameters, tokenizer.")
final class InfoCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--json", description = "Print the description as JSON.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        try (Engine engine = modelOptions.open()) {
            Map<String, Object> info = describe(engine);
            if (json) {
                out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(info));
            } else {
                info.forEach((k, v) -> out.printf("%-22s %s%n", k + ":", v));
            }
        }
        return 0;
    }

    static Map<String, Object> describe(Engine engine) {
        ModelConfig c = engine.config();
        long params = 0;
        Map<String, Long> byDtype = new TreeMap<>();
        for (TensorData t : engine.checkpoint().tensors().values()) {
            params += t.numel();
            byDtype.merge(t.dtype().name(), t.numel(), Long::sum);
        }
        Tokenizer tok = engine.tokenizer();
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("source", engine.checkpoint().source());
        info.put("format", engine.checkpoint().format());
        info.put("architecture", c.architecture());
        info.put("hidden_size", c.hiddenSize());
        info.put("num_hidden_layers", c.numLayers());
        info.put("num_attention_heads", c.numHeads());
        info.put("num_key_value_heads", c.numKvHeads());
        info.put("head_dim", c.headDim());
        info.put("intermediate_size", c.intermediateSize());
        info.put("vocab_size", c.vocabSize());
        info.put("max_position_embeddings", c.maxPositionEmbeddings());
        info.put("rope_theta", c.ropeTheta());
        info.put("rope_scaling", c.ropeScaling() == null ? "none" : "llama3 x" + c.ropeScaling().factor());
        info.put("rope_pairing", c.ropePairing().name().toLowerCase());
        info.put("tie_word_embeddings", c.tieWordEmbeddings());
        info.put("attention_bias", c.attentionBias());
        info.put("dtypes", byDtype);
        info.put("parameters", params);
        info.put("tokenizer_vocab_size", tok.vocabSize());
        info.put("bos_token", tok.bosId() < 0 ? "none" : tok.bosId() + " " + tok.tokenText(tok.bosId()));
        info.put("eos_token", tok.eosId() < 0 ? "none" : tok.eosId() + " " + tok.tokenText(tok.eosId()));
        info.put("chat_template", tok.chatTemplate().isPresent());
        info.put("backend", engine.backend().name());
        return info;
    }
}
