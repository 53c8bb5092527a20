package org.pairwise.launcher;

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
            description = "Tokenizer for a llama2.c checkpoint (tokenizer.bin). Default: next to the model.")
    Path tokenizer;

    @Option(names = "--adapter", paramLabel = "DIR",
            description = "A PEFT LoRA adapter directory (adapter_config.json + adapter_model.safetensors) to apply. "
                    + "Default: none.")
    Path adapter;

    @Option(names = "--backend", defaultValue = "cpu", paramLabel = "NAME",
            description = "Compute backend: cpu, tornadovm (needs the TornadoVM SDK under /opt/tornadovm; run through "
                    + "bin/pairwise, which adds its JVM flags) or auto (tornadovm when the SDK reports a GPU, else cpu). "
                    + "Default: ${DEFAULT-VALUE}.")
    String backend;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N",
            description = "Compute threads (0 = one per core). Default: ${DEFAULT-VALUE}.")
    int threads;

    Engine open() throws java.io.IOException {
        return open(null);
    }

    /** The engine, with {@code chatTemplate} (a file; null: the model's own) as its chat template. */
    Engine open(String chatTemplate) throws java.io.IOException {
        Engine engine = Engine.open(model, tokenizer, chatTemplate == null ? null : Path.of(chatTemplate), backend,
                threads);
        if (adapter != null) {
            try {
                engine.attachAdapter(adapter);
            } catch (java.io.IOException | RuntimeException e) {
                engine.close();
                throw e;
            }
        }
        return engine;
    }
}
