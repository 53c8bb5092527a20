package org.pairwise.model.engine;

import org.pairwise.accel.Backend;
import org.pairwise.accel.DTypes;
import org.pairwise.accel.Tensor;
import org.pairwise.accel.Weight;
import org.pairwise.model.ModelConfig;
import org.pairwise.model.load.Checkpoint;
import org.pairwise.model.load.TensorData;

/**
 * The frozen decoder weights on a backend. Matrices stay in their stored dtype (often memory-mapped); norms and
 * biases are small and become F32 tensors.
 */
public record LlamaWeights(Weight embed, Weight lmHead, Tensor finalNorm, Layer[] layers) {

    /** One decoder layer; biases are null unless the architecture has them (Qwen2's q/k/v). */
    public record Layer(Tensor attnNorm, Weight wq, Tensor bq, Weight wk, Tensor bk, Weight wv, Tensor bv, Weight wo,
                        Tensor mlpNorm, Weight wGate, Weight wUp, Weight wDown) {}

    public static LlamaWeights load(Checkpoint ck, Backend be) {
        ModelConfig c = ck.config();
        int C = c.hiddenSize();
        Weight embed = matrix(ck, be, "model.embed_tokens.weight", c.vocabSize(), C);
        Weight lmHead = c.tieWordEmbeddings() && !ck.tensors().containsKey("lm_head.weight")
                ? embed
                : matrix(ck, be, "lm_head.weight", c.vocabSize(), C);
        Layer[] layers = new Layer[c.numLayers()];
        for (int i = 0; i < layers.length; i++) {
            String p = "model.layers." + i + ".";
            boolean bias = c.attentionBias();
            layers[i] = new Layer(
                    vector(ck, be, p + "input_layernorm.weight", C),
                    matrix(ck, be, p + "self_attn.q_proj.weight", c.qDim(), C),
                    bias ? vector(ck, be, p + "self_attn.q_proj.bias", c.qDim()) : null,
                    matrix(ck, be, p + "self_attn.k_proj.weight", c.kvDim(), C),
                    bias ? vector(ck, be, p + "self_attn.k_proj.bias", c.kvDim()) : null,
                    matrix(ck, be, p + "self_attn.v_proj.weight", c.kvDim(), C),
                    bias ? vector(ck, be, p + "self_attn.v_proj.bias", c.kvDim()) : null,
                    matrix(ck, be, p + "self_attn.o_proj.weight", C, c.qDim()),
                    vector(ck, be, p + "post_attention_layernorm.weight", C),
                    matrix(ck, be, p + "mlp.gate_proj.weight", c.intermediateSize(), C),
                    matrix(ck, be, p + "mlp.up_proj.weight", c.intermediateSize(), C),
                    matrix(ck, be, p + "mlp.down_proj.weight", C, c.intermediateSize()));
        }
        return new LlamaWeights(embed, lmHead, vector(ck, be, "model.norm.weight", C), layers);
    }

    private static Weight matrix(Checkpoint ck, Backend be, String name, int rows, int cols) {
        TensorData t = ck.tensor(name);
        if (t.shape().length != 2 || t.rows() != rows || t.cols() != cols) {
            throw new IllegalArgumentException(ck.source() + ": tensor " + t + " should be [" + rows + ", " + cols + "]");
        }
        return be.weight(t.data(), t.dtype(), rows, cols);
    }

    private static Tensor vector(Checkpoint ck, Backend be, String name, int n) {
        TensorData t = ck.tensor(name);
        if (t.numel() != n) {
            throw new IllegalArgumentException(ck.source() + ": tensor " + t + " should have " + n + " values");
        }
        return be.upload(DTypes.toFloats(t.data(), t.dtype(), n));
    }
}
