package org.pairwise.model;

import org.pairwise.accel.RopeTable;

/**
 * The shape of a Llama-family decoder, with HF config.json's meaning for every field.
 *
 * @param architecture    LlamaForCausalLM, Qwen2ForCausalLM or MistralForCausalLM
 * @param attentionBias   q/k/v projections have biases (Qwen2)
 * @param ropePairing     HALVES for HF checkpoints, ADJACENT for GGUF llama and llama2.c files (see {@link RopeTable})
 * @param ropeScaling     Llama 3.x "llama3" scaling, or null
 * @param bosTokenId      -1 when the model has none
 * @param eosTokenIds     generation stops on any of these
 */
public record ModelConfig(
        String architecture,
        int hiddenSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int intermediateSize,
        int vocabSize,
        int maxPositionEmbeddings,
        float rmsNormEps,
        double ropeTheta,
        RopeTable.Llama3Scaling ropeScaling,
        RopeTable.Pairing ropePairing,
        boolean tieWordEmbeddings,
        boolean attentionBias,
        int bosTokenId,
        int[] eosTokenIds) {

    public ModelConfig {
        if (hiddenSize <= 0 || numLayers <= 0 || numHeads <= 0 || numKvHeads <= 0 || headDim <= 0
                || intermediateSize <= 0 || vocabSize <= 0 || maxPositionEmbeddings <= 0) {
            throw new IllegalArgumentException("model config has a non-positive size: " + this);
        }
        if (numHeads % numKvHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads " + numHeads
                    + " is not a multiple of num_key_value_heads " + numKvHeads);
        }
    }

    public int qDim() {
        return numHeads * headDim;
    }

    public int kvDim() {
        return numKvHeads * headDim;
    }

    public boolean isEos(int token) {
        for (int e : eosTokenIds) {
            if (e == token) {
                return true;
            }
        }
        return false;
    }
}
