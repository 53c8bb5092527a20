#!/usr/bin/env python3
"""Writes a random-weight GGUF file (llama architecture) that both llama.cpp and pairwise read.

Shapes as `pairwise bench --shape`: small (hidden 512, 8 layers, 8 heads, 2 KV heads, intermediate 1408, vocab
32000) and qwen2.5-0.5b (hidden 896, 24 layers, 14 heads, 2 KV heads, intermediate 4864, vocab 151936, an untied
output matrix, no q/k/v biases: llama.cpp's llama architecture has none). Weights uniform in [-0.05, 0.05) as in
`pairwise bench`; norms near 1. The vocabulary is SentencePiece-style (<unk>, <s>, </s>, 256 byte tokens, then
placeholder pieces): neither engine tokenizes text here, both are fed token ids.

Usage: /usr/bin/python3 bench/gguf_random.py --shape small --dtype Q8_0 --out FILE
"""
import argparse
import os
import struct

import numpy as np

SHAPES = {
    "small": dict(hidden=512, layers=8, heads=8, kv=2, inter=1408, vocab=32000, theta=10000.0, eps=1e-5),
    "qwen2.5-0.5b": dict(hidden=896, layers=24, heads=14, kv=2, inter=4864, vocab=151936, theta=1000000.0,
                         eps=1e-6),
}
GGML_TYPE = {"F32": 0, "F16": 1, "Q8_0": 8, "BF16": 30}
ALIGN = 32


def s(text):
    b = text.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype, value):
    out = s(key) + struct.pack("<I", vtype)
    if vtype == 8:
        return out + s(value)
    fmt = {4: "<I", 5: "<i", 6: "<f", 7: "<?"}[vtype]
    return out + struct.pack(fmt, value)


def kv_array(key, etype, values):
    out = s(key) + struct.pack("<I", 9) + struct.pack("<IQ", etype, len(values))
    if etype == 8:
        return out + b"".join(s(v) for v in values)
    return out + np.asarray(values, dtype={5: "<i4", 6: "<f4"}[etype]).tobytes()


def encode(a, dtype):
    """Row-major float32 array -> bytes of the GGML type."""
    if dtype == "F32":
        return a.astype("<f4").tobytes()
    if dtype == "F16":
        return a.astype("<f2").tobytes()
    if dtype == "BF16":
        bits = a.astype("<f4").view("<u4")
        rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16  # round to nearest even, as torch does
        return rounded.astype("<u2").tobytes()
    if dtype == "Q8_0":
        blocks = a.reshape(-1, 32)
        amax = np.abs(blocks).max(axis=1)
        d = amax / 127.0
        inv = np.where(d > 0, 1.0 / np.where(d > 0, d, 1), 0.0)
        q = np.clip(np.round(blocks * inv[:, None]), -128, 127).astype("<i1")
        out = np.empty((blocks.shape[0], 34), dtype="u1")
        out[:, :2] = d.astype("<f2").view("u1").reshape(-1, 2)
        out[:, 2:] = q.view("u1")
        return out.tobytes()
    raise ValueError(dtype)


def layout(shape, dtype):
    """(name, rows, cols or None for a vector, GGML type name) of every tensor, in file order."""
    C, I, V, H, KV = shape["hidden"], shape["inter"], shape["vocab"], shape["heads"], shape["kv"]
    hd = C // H
    out = [("token_embd.weight", V, C, dtype)]
    for i in range(shape["layers"]):
        p = "blk.%d." % i
        out += [(p + "attn_norm.weight", C, None, "F32"), (p + "attn_q.weight", H * hd, C, dtype),
                (p + "attn_k.weight", KV * hd, C, dtype), (p + "attn_v.weight", KV * hd, C, dtype),
                (p + "attn_output.weight", C, H * hd, dtype), (p + "ffn_norm.weight", C, None, "F32"),
                (p + "ffn_gate.weight", I, C, dtype), (p + "ffn_up.weight", I, C, dtype),
                (p + "ffn_down.weight", C, I, dtype)]
    return out + [("output_norm.weight", C, None, "F32"), ("output.weight", V, C, dtype)]


def nbytes(n, t):
    return n // 32 * 34 if t == "Q8_0" else n * {"F32": 4, "F16": 2, "BF16": 2}[t]


def vocabulary(V):
    tokens = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)]
    types = [2, 3, 3] + [6] * 256
    tokens += ["\u2581t%d" % i for i in range(V - len(tokens))]
    types += [1] * (V - len(types))
    scores = [0.0] * 3 + [0.0] * 256 + [-float(i) for i in range(V - 259)]
    return tokens, scores, types


def write(path, shape_name, dtype, seed=1):
    shape = SHAPES[shape_name]
    C, H = shape["hidden"], shape["heads"]
    tokens, scores, types = vocabulary(shape["vocab"])
    meta = [
        kv("general.architecture", 8, "llama"),
        kv("general.name", 8, "random-%s-%s" % (shape_name, dtype)),
        kv("general.alignment", 4, ALIGN),
        kv("llama.context_length", 4, 4096),
        kv("llama.embedding_length", 4, C),
        kv("llama.block_count", 4, shape["layers"]),
        kv("llama.feed_forward_length", 4, shape["inter"]),
        kv("llama.attention.head_count", 4, H),
        kv("llama.attention.head_count_kv", 4, shape["kv"]),
        kv("llama.rope.dimension_count", 4, C // H),
        kv("llama.rope.freq_base", 6, shape["theta"]),
        kv("llama.attention.layer_norm_rms_epsilon", 6, shape["eps"]),
        kv("tokenizer.ggml.model", 8, "llama"),
        kv_array("tokenizer.ggml.tokens", 8, tokens),
        kv_array("tokenizer.ggml.scores", 6, scores),
        kv_array("tokenizer.ggml.token_type", 5, types),
        kv("tokenizer.ggml.unknown_token_id", 4, 0),
        kv("tokenizer.ggml.bos_token_id", 4, 1),
        kv("tokenizer.ggml.eos_token_id", 4, 2),
        kv("tokenizer.ggml.add_bos_token", 7, False),
    ]
    entries = layout(shape, dtype)
    infos, offset = [], 0
    for name, rows, cols, t in entries:
        dims = [rows] if cols is None else [cols, rows]  # GGUF lists ne0 (the contiguous dimension) first
        infos.append(s(name) + struct.pack("<I", len(dims)) + struct.pack("<%dQ" % len(dims), *dims)
                     + struct.pack("<IQ", GGML_TYPE[t], offset))
        offset += nbytes(rows * (cols or 1), t) + (-nbytes(rows * (cols or 1), t)) % ALIGN
    header = b"GGUF" + struct.pack("<IQQ", 3, len(infos), len(meta)) + b"".join(meta) + b"".join(infos)
    header += b"\0" * ((-len(header)) % ALIGN)
    rng = np.random.default_rng(seed)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(header)
        for name, rows, cols, t in entries:
            if cols is None:
                a = 1 + (rng.random(rows, dtype=np.float32) - 0.5) * np.float32(0.1)
            else:
                a = (rng.random((rows, cols), dtype=np.float32) - 0.5) * np.float32(0.1)
            data = encode(a, t)
            f.write(data + b"\0" * ((-len(data)) % ALIGN))
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shape", choices=sorted(SHAPES), required=True)
    ap.add_argument("--dtype", choices=sorted(GGML_TYPE), required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    write(a.out, a.shape, a.dtype)


if __name__ == "__main__":
    main()
