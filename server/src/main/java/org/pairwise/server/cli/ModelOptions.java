package org.pairwise.server.cli;

import java.nio.file.Path;
import org.pairwise.model.DemoModel;
import org.pairwise.model.Engine;
import picocli.CommandLine.Option;

/** The options every model-using command shares. */
final class ModelOptions {
    @Option(names = {"-m", "--model"}, defaultValue = DemoModel.SPEC, paramLabel = "M",
            description = "A local HF directory, a .gguf file, a llama2.c .bin, a hub id (org/name), or 'demo' "
                    + "(the built-in tiny model). Default: ${DEFAULT-VALUE}.")
    String model;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "Tokenizer for a llama2.c checkpoint (tokenizer.bin); default: next to the model.")
    Path tokenizer;

    @Option(names = "--backend", defaultValue = "cpu", paramLabel = "NAME",
            description = "Compute backend: cpu or auto. Default: ${DEFAULT-VALUE}.")
    String backend;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N",
            description = "Compute threads (0 = one per core).")
    int threads;

    Engine open() throws java.io.IOException {
        return Engine.open(model, tokenizer, backend, threads);
    }
}
