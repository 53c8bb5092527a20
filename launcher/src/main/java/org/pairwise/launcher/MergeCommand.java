package org.pairwise.launcher;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.pairwise.accel.Backend;
import org.pairwise.accel.Backends;
import org.pairwise.accel.DType;
import org.pairwise.model.DemoModel;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.model.load.ModelConfigs;
import org.pairwise.model.load.ModelSource;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.model.lora.LoraMerge;
import org.pairwise.model.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "merge", description = "Fold a LoRA adapter into its base model (W' = W + scaling * B A, as PEFT's "
        + "merge_and_unload) and write a Hugging Face model directory: config.json, model.safetensors, tokenizer.json, "
        + "tokenizer_config.json, generation_config.json.")
final class MergeCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, defaultValue = DemoModel.SPEC, paramLabel = "M",
            description = "The base model: a local HF directory, a .gguf file, a llama2.c .bin, a hub id, or 'demo'. "
                    + "Default: ${DEFAULT-VALUE}.")
    String model;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "Tokenizer for a llama2.c checkpoint (tokenizer.bin). Default: next to the model.")
    Path tokenizer;

    @Option(names = "--adapter", required = true, paramLabel = "DIR",
            description = "The PEFT LoRA adapter directory to merge (adapter_config.json + adapter_model.safetensors).")
    Path adapter;

    @Option(names = "--out", required = true, paramLabel = "DIR",
            description = "The directory to create (it must not exist, or be empty).")
    Path out;

    @Option(names = "--dtype", paramLabel = "F32|BF16|F16",
            description = "Storage type of the merged weights. Default: the base's (F32 when it is quantized).")
    String dtype;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter console = spec.commandLine().getOut();
        DType target;
        try {
            target = dtype == null ? null : parseDtype(dtype);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);  // bad usage: exit 2
        }
        Path dest = out.toAbsolutePath().normalize();
        checkDestination(dest);
        long start = System.nanoTime();
        try (Checkpoint ck = ModelSource.open(model, tokenizer); Backend be = Backends.open("cpu", 1)) {
            ModelConfig c = ck.config();
            if (target == null) {
                target = defaultDtype(ck);
            }
            LoraAdapter lora = LoraAdapter.load(adapter, c, be);
            // Built beside the destination and renamed into place: an interrupted merge leaves no half directory.
            Path tmp = dest.resolveSibling("." + dest.getFileName() + ".merging");
            deleteTree(tmp);
            Files.createDirectories(tmp);
            try {
                LoraMerge.Summary s = LoraMerge.write(ck, lora, be, target, tmp.resolve("model.safetensors"));
                ObjectNode config = (ObjectNode) Json.MAPPER.readTree(ModelConfigs.toHfJson(c));
                config.put("torch_dtype", switch (target) {
                    case BF16 -> "bfloat16";
                    case F16 -> "float16";
                    default -> "float32";
                });
                Files.writeString(tmp.resolve("config.json"), config.toPrettyString());
                Files.writeString(tmp.resolve("generation_config.json"), generationConfig(c));
                Files.writeString(tmp.resolve("tokenizer.json"), ck.tokenizerJson());
                String tokConfig = tokenizerConfig(ck);
                if (tokConfig != null) {
                    Files.writeString(tmp.resolve("tokenizer_config.json"), tokConfig);
                }
                if (Files.isDirectory(dest)) {
                    Files.delete(dest);  // checked empty above
                }
                Files.move(tmp, dest, StandardCopyOption.ATOMIC_MOVE);
                double seconds = (System.nanoTime() - start) / 1e9;
                console.printf(Locale.ROOT, "merged %d adapted projections (r=%d, scaling %.4g) into %d tensors, %s, "
                                + "%.1f MB in %s (%.2f s)%n", s.merged(), lora.rank(), lora.config().scaling(),
                        s.tensors().size(), target, Files.size(dest.resolve("model.safetensors")) / 1e6, dest,
                        seconds);
            } finally {
                deleteTree(tmp);
            }
        }
        return 0;
    }

    static DType parseDtype(String name) {
        return switch (name.toUpperCase(Locale.ROOT)) {
            case "F32", "FLOAT32" -> DType.F32;
            case "BF16", "BFLOAT16" -> DType.BF16;
            case "F16", "FLOAT16" -> DType.F16;
            default -> throw new IllegalArgumentException("--dtype " + name + " is not one of F32, BF16, F16");
        };
    }

    // The projections' storage type stands for the model's (GGUF keeps norms in F32 whatever the weights are);
    // quantized weights cannot be stored quantized once merged, so they widen to F32.
    private static DType defaultDtype(Checkpoint ck) {
        DType d = ck.tensor("model.layers.0.self_attn.q_proj.weight").dtype();
        return d == DType.BF16 || d == DType.F16 ? d : DType.F32;
    }

    private void checkDestination(Path dest) throws IOException {
        if (Files.exists(dest)) {
            if (!Files.isDirectory(dest)) {
                throw new IllegalArgumentException("--out " + out + " exists and is not a directory");
            }
            try (Stream<Path> entries = Files.list(dest)) {
                if (entries.findAny().isPresent()) {
                    throw new IllegalArgumentException("--out " + out + " is not empty; name a new directory");
                }
            }
        }
    }

    private static String generationConfig(ModelConfig c) {
        ObjectNode g = Json.MAPPER.createObjectNode();
        if (c.bosTokenId() >= 0) {
            g.put("bos_token_id", c.bosTokenId());
        }
        int[] eos = c.eosTokenIds();
        if (eos.length == 1) {
            g.put("eos_token_id", eos[0]);
        } else if (eos.length > 1) {
            var arr = g.putArray("eos_token_id");
            for (int e : eos) {
                arr.add(e);
            }
        }
        return g.toPrettyString();
    }

    /**
     * An HF directory's own tokenizer_config.json is kept as it is. A converted vocabulary (GGUF, llama2.c, demo) knows
     * its BOS/EOS only by id, from the model's metadata; an HF directory names them in tokenizer_config.json, so they
     * are written there, or the merged directory would tokenize without BOS.
     */
    private static String tokenizerConfig(Checkpoint ck) throws IOException {
        if (ck.format().equals("hf")) {
            return ck.tokenizerConfigJson();
        }
        ModelConfig c = ck.config();
        ObjectNode t = ck.tokenizerConfigJson() == null ? Json.MAPPER.createObjectNode()
                : (ObjectNode) Json.MAPPER.readTree(ck.tokenizerConfigJson());
        int eos = c.eosTokenIds().length > 0 ? c.eosTokenIds()[0] : -1;
        try (Tokenizer tok = Tokenizer.fromJson(ck.tokenizerJson(), ck.tokenizerConfigJson(), c.bosTokenId(), eos)) {
            if (!t.has("bos_token") && c.bosTokenId() >= 0) {
                t.put("bos_token", tok.tokenText(c.bosTokenId()));
            }
            if (!t.has("eos_token") && eos >= 0) {
                t.put("eos_token", tok.tokenText(eos));
            }
        }
        if (!t.has("model_max_length")) {
            t.put("model_max_length", c.maxPositionEmbeddings());
        }
        return t.toPrettyString();
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
