package org.pairwise.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.pairwise.accel.Backend;
import org.pairwise.accel.Backends;
import org.pairwise.model.engine.LlamaModel;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.model.load.ModelSource;
import org.pairwise.model.lora.LoraAdapter;
import org.pairwise.model.tokenizer.ChatTemplate;
import org.pairwise.model.tokenizer.Tokenizer;

/** A model ready to use: its files, tokenizer, backend and decoder, opened from one model spec. */
public final class Engine implements AutoCloseable {
    private final Checkpoint checkpoint;
    private final Tokenizer tokenizer;
    private final Backend backend;
    private final LlamaModel model;

    private Engine(Checkpoint checkpoint, Tokenizer tokenizer, Backend backend, LlamaModel model) {
        this.checkpoint = checkpoint;
        this.tokenizer = tokenizer;
        this.backend = backend;
        this.model = model;
    }

    /**
     * @param spec      a local HF directory, a .gguf or llama2.c .bin file, a hub id (org/name), or "demo"
     * @param tokenizer a tokenizer file overriding the model's own (a llama2.c tokenizer.bin), or null
     */
    public static Engine open(String spec, Path tokenizer, String backendName, int threads) throws IOException {
        return open(spec, tokenizer, null, backendName, threads);
    }

    /**
     * As {@link #open(String, Path, String, int)}, with {@code chatTemplate} (a Jinja file, or a
     * tokenizer_config.json; null for none) in place of the model's own chat template.
     */
    public static Engine open(String spec, Path tokenizer, Path chatTemplate, String backendName, int threads)
            throws IOException {
        // Read first: a missing or empty template file fails before a long model load.
        String template = chatTemplate == null ? null : ChatTemplate.readFile(chatTemplate);
        Checkpoint ck = ModelSource.open(spec, tokenizer);
        Backend be = null;
        Tokenizer tok = null;
        try {
            tok = openTokenizer(ck, template);
            be = Backends.open(backendName, threads);
            return new Engine(ck, tok, be, LlamaModel.load(ck, be));
        } catch (RuntimeException e) {
            if (be != null) {
                be.close();
            }
            if (tok != null) {
                tok.close();
            }
            ck.close();
            throw e;
        }
    }

    // HF directories name their special tokens in tokenizer_config.json (Qwen has no BOS there even though config.json
    // gives an id); converted vocabularies (GGUF, llama2.c, demo) carry the ids in the model metadata instead.
    private static Tokenizer openTokenizer(Checkpoint ck, String chatTemplate) {
        String config = chatTemplate == null ? ck.tokenizerConfigJson()
                : ChatTemplate.intoConfig(ck.tokenizerConfigJson(), chatTemplate);
        if (ck.format().equals("hf")) {
            return Tokenizer.fromJson(ck.tokenizerJson(), config);
        }
        int[] eos = ck.config().eosTokenIds();
        return Tokenizer.fromJson(ck.tokenizerJson(), config, ck.config().bosTokenId(), eos.length > 0 ? eos[0] : -1);
    }

    /** Loads a PEFT LoRA adapter directory and applies it to the model from now on. */
    public void attachAdapter(Path adapterDir) throws IOException {
        model.setAdapter(LoraAdapter.load(adapterDir, config(), backend));
    }

    /**
     * A plain-text prompt as the model's tokenizer would encode it for generation (with its special tokens, BOS for
     * Llama); the empty prompt is BOS alone, as llama2.c's run starts.
     */
    public int[] encodePrompt(String text) {
        if (text.isEmpty()) {
            if (tokenizer.bosId() < 0) {
                throw new IllegalArgumentException("an empty prompt needs a BOS token, and this tokenizer has none");
            }
            return new int[] {tokenizer.bosId()};
        }
        int[] ids = tokenizer.encode(text, true);
        if (ids.length == 0) {
            throw new IllegalArgumentException("the prompt encodes to no tokens");
        }
        return ids;
    }

    /** A conversation rendered by the chat template with the generation prompt, encoded as HF's apply_chat_template. */
    public int[] encodeChat(List<Map<String, Object>> messages) {
        ChatTemplate template = tokenizer.chatTemplate().orElseThrow(() -> new IllegalArgumentException(
                checkpoint.source() + " has no chat template: " + ChatTemplate.HOW_TO_GIVE_ONE
                        + ", or a plain-text prompt"));
        return tokenizer.encode(template.render(messages, true), false);
    }

    public Checkpoint checkpoint() {
        return checkpoint;
    }

    public ModelConfig config() {
        return checkpoint.config();
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public Backend backend() {
        return backend;
    }

    public LlamaModel model() {
        return model;
    }

    @Override
    public void close() {
        backend.close();
        tokenizer.close();
        checkpoint.close();
    }
}
