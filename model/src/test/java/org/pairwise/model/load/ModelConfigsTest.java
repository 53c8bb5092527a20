package org.pairwise.model.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.pairwise.accel.RopeTable;
import org.pairwise.model.ModelConfig;

class ModelConfigsTest {
    // Llama-3.2-1B-Instruct's config.json and generation_config.json, as published.
    private static final String LLAMA32 = """
            {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
             "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "head_dim": 64,
             "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 8192,
             "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama",
             "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8, "pretraining_tp": 1,
             "rms_norm_eps": 1e-05, "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
             "original_max_position_embeddings": 8192, "rope_type": "llama3"}, "rope_theta": 500000.0,
             "tie_word_embeddings": true, "torch_dtype": "bfloat16", "transformers_version": "4.45.0.dev0",
             "use_cache": true, "vocab_size": 128256}""";
    private static final String LLAMA32_GEN = """
            {"bos_token_id": 128000, "do_sample": true, "eos_token_id": [128001, 128008, 128009],
             "temperature": 0.6, "top_p": 0.9, "transformers_version": "4.45.0.dev0"}""";
    // Qwen2.5-0.5B-Instruct's config.json (abridged to the fields that matter).
    private static final String QWEN25 = """
            {"architectures": ["Qwen2ForCausalLM"], "bos_token_id": 151643, "eos_token_id": 151645,
             "hidden_act": "silu", "hidden_size": 896, "intermediate_size": 4864, "max_position_embeddings": 32768,
             "max_window_layers": 21, "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 24,
             "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 32768,
             "tie_word_embeddings": true, "torch_dtype": "bfloat16", "use_sliding_window": false,
             "vocab_size": 151936}""";
    private static final String QWEN25_GEN = """
            {"bos_token_id": 151643, "pad_token_id": 151643, "do_sample": true,
             "eos_token_id": [151645, 151643], "repetition_penalty": 1.1, "temperature": 0.7}""";

    @Test
    void llama3RopeScalingAndEosListAreParsed() {
        ModelConfig c = ModelConfigs.parse(LLAMA32, LLAMA32_GEN);
        assertEquals("LlamaForCausalLM", c.architecture());
        assertEquals(new RopeTable.Llama3Scaling(32.0, 1.0, 4.0, 8192), c.ropeScaling());
        assertEquals(500000.0, c.ropeTheta());
        assertEquals(64, c.headDim());
        assertEquals(8, c.numKvHeads());
        assertEquals(1e-5f, c.rmsNormEps());
        assertTrue(c.tieWordEmbeddings());
        assertFalse(c.attentionBias());
        assertEquals(128000, c.bosTokenId());
        assertArrayEquals(new int[] {128001, 128008, 128009}, c.eosTokenIds());
        assertEquals(RopeTable.Pairing.HALVES, c.ropePairing());
        assertEquals(131072, c.maxPositionEmbeddings());
    }

    @Test
    void qwen2HasBiasesAndGenerationConfigEosWins() {
        ModelConfig c = ModelConfigs.parse(QWEN25, QWEN25_GEN);
        assertTrue(c.attentionBias());
        assertEquals(64, c.headDim(), "head_dim defaults to hidden_size / num_attention_heads");
        assertArrayEquals(new int[] {151645, 151643}, c.eosTokenIds());
        assertEquals(151643, c.bosTokenId());
        assertNull(c.ropeScaling());
        assertEquals(1000000.0, c.ropeTheta());
        assertArrayEquals(new int[] {151645}, ModelConfigs.parse(QWEN25, null).eosTokenIds());
    }

    /** transformers 5's save_pretrained moves rope_theta and rope_scaling's fields into rope_parameters. */
    @Test
    void transformers5RopeParametersAreRead() {
        String qwen = QWEN25.replace("\"rope_theta\": 1000000.0,",
                "\"rope_parameters\": {\"rope_theta\": 1000000.0, \"rope_type\": \"default\"},");
        ModelConfig c = ModelConfigs.parse(qwen, null);
        assertEquals(1000000.0, c.ropeTheta());
        assertNull(c.ropeScaling());
        String llama = LLAMA32.replaceAll("\"rope_scaling\": \\{[^}]*}, \"rope_theta\": 500000.0,",
                "\"rope_parameters\": {\"factor\": 32.0, \"high_freq_factor\": 4.0, \"low_freq_factor\": 1.0, "
                        + "\"original_max_position_embeddings\": 8192, \"rope_theta\": 500000.0, "
                        + "\"rope_type\": \"llama3\"},");
        assertFalse(llama.contains("rope_scaling"), llama);
        ModelConfig l = ModelConfigs.parse(llama, null);
        assertEquals(500000.0, l.ropeTheta());
        assertEquals(new RopeTable.Llama3Scaling(32.0, 1.0, 4.0, 8192), l.ropeScaling());
    }

    @Test
    void defaultsFollowTransformers() {
        ModelConfig c = ModelConfigs.parse("""
                {"architectures": ["MistralForCausalLM"], "hidden_size": 32, "num_hidden_layers": 2,
                 "num_attention_heads": 4, "intermediate_size": 64, "vocab_size": 100}""", null);
        assertEquals(4, c.numKvHeads());
        assertEquals(8, c.headDim());
        assertEquals(10000.0, c.ropeTheta());
        assertFalse(c.tieWordEmbeddings());
        assertEquals(-1, c.bosTokenId());
        assertEquals(0, c.eosTokenIds().length);
    }

    @Test
    void legacyTypeKeyAndModelTypeFallback() {
        ModelConfig c = ModelConfigs.parse("""
                {"model_type": "llama", "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4,
                 "intermediate_size": 64, "vocab_size": 100, "rope_scaling": {"type": "llama3", "factor": 8.0,
                 "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}}""", null);
        assertEquals("LlamaForCausalLM", c.architecture());
        assertEquals(8.0, c.ropeScaling().factor());
    }

    @Test
    void unsupportedThingsFailWithOneClearLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelConfigs.parse(LLAMA32.replace("LlamaForCausalLM", "GPT2LMHeadModel"), null));
        assertEquals("unsupported architecture GPT2LMHeadModel (supported: LlamaForCausalLM, Qwen2ForCausalLM,"
                + " MistralForCausalLM)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ModelConfigs.parse(LLAMA32.replace("\"llama3\"", "\"yarn\""), null));
        assertTrue(e.getMessage().contains("rope_scaling type \"yarn\" is not supported"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ModelConfigs.parse(LLAMA32.replace("\"hidden_size\": 2048,", ""), null));
        assertTrue(e.getMessage().contains("hidden_size"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ModelConfigs.parse(LLAMA32.replace("\"silu\"", "\"gelu\""), null));
        assertTrue(e.getMessage().contains("gelu"), e.getMessage());
    }

    @Test
    void toHfJsonRoundTrips() {
        ModelConfig c = ModelConfigs.parse(LLAMA32, LLAMA32_GEN);
        ModelConfig back = ModelConfigs.parse(ModelConfigs.toHfJson(c), null);
        assertEquals(c.ropeScaling(), back.ropeScaling());
        assertArrayEquals(c.eosTokenIds(), back.eosTokenIds());
        assertEquals(c.toString().replaceAll("\\[I@\\w+", ""), back.toString().replaceAll("\\[I@\\w+", ""));
    }
}
