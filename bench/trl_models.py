#!/usr/bin/env python3
"""The files that `pairwise train` and TRL's DPOTrainer both read, written once (run with the TRL venv's python).

  model DIR --shape small|qwen2.5-0.5b|tiny [--seed 1]
      a random-weight Hugging Face model directory as transformers' save_pretrained writes it (config.json,
      generation_config.json, F32 model.safetensors) with a WordLevel tokenizer.json over the whole vocabulary
      (<pad> <unk> <s> </s>, then w4, w5, ...; whitespace pre-tokenizer, no post-processor) and its
      tokenizer_config.json (eos </s>, pad <pad>).
  data FILE --vocab V [--pairs 64 --prompt-words 128 --completion-words 127 --seed 7]
      TRL standard-format JSONL ({"prompt", "chosen", "rejected"}: words drawn from w4 .. w(V-1), completions with a
      leading space); with EOS a sequence is prompt-words + completion-words + 1 tokens.

Weights come from transformers' own initialisation (normal, std initializer_range; biases and norms as it sets them)
after torch.manual_seed(seed), so the same seed writes the same files.
"""
import argparse
import json
import os
import random
import sys

SPECIALS = ["<pad>", "<unk>", "<s>", "</s>"]  # ids 0..3; words start at 4

SHAPES = {
    # bench/torch_engine.py's shapes, as Hugging Face configs.
    "small": dict(arch="llama", hidden=512, layers=8, heads=8, kv=2, inter=1408, vocab=32000, tied=False,
                  theta=1e4, max_pos=2048, std=0.02),
    "qwen2.5-0.5b": dict(arch="qwen2", hidden=896, layers=24, heads=14, kv=2, inter=4864, vocab=151936, tied=True,
                         theta=1e6, max_pos=32768, std=0.02),
    # The equivalence fixtures' model: small enough to commit (about 100 KB), a RoPE base that is not the default
    # (so a loader that misses transformers 5's rope_parameters fails), weights large enough that attention and the
    # MLP shape the log-probs.
    "tiny": dict(arch="llama", hidden=32, layers=2, heads=4, kv=2, inter=64, vocab=64, tied=False,
                 theta=500.0, max_pos=128, std=0.2),
}


def write_model(out, shape, seed):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM
    from tokenizers import Tokenizer, models, pre_tokenizers

    s = SHAPES[shape]
    common = dict(hidden_size=s["hidden"], num_hidden_layers=s["layers"], num_attention_heads=s["heads"],
                  num_key_value_heads=s["kv"], intermediate_size=s["inter"], vocab_size=s["vocab"],
                  tie_word_embeddings=s["tied"], max_position_embeddings=s["max_pos"], rope_theta=s["theta"],
                  rms_norm_eps=1e-6, initializer_range=s["std"], pad_token_id=0, bos_token_id=2, eos_token_id=3)
    if s["arch"] == "llama":
        config, cls = LlamaConfig(**common), LlamaForCausalLM
    else:
        config, cls = Qwen2Config(**common), Qwen2ForCausalLM
    torch.manual_seed(seed)
    model = cls(config).to(torch.float32)
    model.save_pretrained(out)

    vocab = {t: i for i, t in enumerate(SPECIALS)}
    vocab.update({f"w{i}": i for i in range(len(SPECIALS), s["vocab"])})
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>", bos_token="<s>",
                                   eos_token="</s>")
    fast.save_pretrained(out)


def write_pairs(path, vocab, pairs, prompt_words, completion_words, seed):
    rng = random.Random(seed)

    def words(n):
        return " ".join(f"w{rng.randrange(len(SPECIALS), vocab)}" for _ in range(n))

    with open(path, "w") as f:
        for _ in range(pairs):
            f.write(json.dumps({"prompt": words(prompt_words), "chosen": " " + words(completion_words),
                                "rejected": " " + words(completion_words)}) + "\n")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    m = sub.add_parser("model")
    m.add_argument("out")
    m.add_argument("--shape", choices=SHAPES, default="small")
    m.add_argument("--seed", type=int, default=1)
    d = sub.add_parser("data")
    d.add_argument("out")
    d.add_argument("--vocab", type=int, required=True)
    d.add_argument("--pairs", type=int, default=64)
    d.add_argument("--prompt-words", type=int, default=128)
    d.add_argument("--completion-words", type=int, default=127)
    d.add_argument("--seed", type=int, default=7)
    a = ap.parse_args(argv)
    if a.what == "model":
        os.makedirs(a.out, exist_ok=True)
        write_model(a.out, a.shape, a.seed)
    else:
        write_pairs(a.out, a.vocab, a.pairs, a.prompt_words, a.completion_words, a.seed)


if __name__ == "__main__":
    main(sys.argv[1:])
