"""treequest 0.3.3 on the synthetic task HQR-1, the Python side of bench/mcts.

A node's hidden state is (c, q). A new answer draws u, v ~ U(0, 1), c = u^K,
q = c (0.3 + 0.5 v); refining (c, q) gives q' = clip(q + R (c - q) + N(0, 0.05^2), 0, c)
and the child keeps c; the score is q. Action A: K=2, R=0.3; action B: K=3, R=0.15.

Prints one JSON line per run: algorithm, actions, N, seed, best score, seconds spent in the
search itself (the generate functions' own time is measured and subtracted).
"""

import argparse
import json
import random
import sys
import time
import tracemalloc

import numpy as np
import treequest as tq
from treequest.algos.best_first_search import BestFirstSearchAlgo

ACTIONS = {"A": (2.0, 0.3), "B": (3.0, 0.15)}


def make_gen(k, r, rng, acc):
    def gen(parent):
        t0 = time.perf_counter()
        if parent is None:
            u, v = rng.random(), rng.random()
            c = u**k
            q = c * (0.3 + 0.5 * v)
        else:
            c, q = parent
            q = min(max(q + r * (c - q) + rng.gauss(0.0, 0.05), 0.0), c)
        acc["best"] = max(acc["best"], q)
        acc["gen"] += time.perf_counter() - t0
        return (c, q), q

    return gen


def algorithm(name):
    if name == "ab_gaussian":
        return tq.ABMCTSA(dist_type="gaussian")
    if name == "ab_beta":
        return tq.ABMCTSA(dist_type="beta")
    if name == "standard_mcts":
        return tq.StandardMCTS()
    if name == "best_first":
        return BestFirstSearchAlgo()
    raise SystemExit(f"unknown algorithm {name}")


def run(name, actions, n, seed, memory=False):
    random.seed(seed)
    np.random.seed(seed)
    rng = random.Random(seed)
    acc = {"best": 0.0, "gen": 0.0}
    gens = {a: make_gen(*ACTIONS[a], rng, acc) for a in actions}
    algo = algorithm(name)
    if memory:
        tracemalloc.start()
    t0 = time.perf_counter()
    state = algo.init_tree()
    for _ in range(n):
        state = algo.step(state, gens, inplace=True)
    seconds = time.perf_counter() - t0 - acc["gen"]
    out = {"side": "treequest", "algo": name, "actions": len(actions), "n": n, "seed": seed,
           "best": acc["best"], "seconds": seconds}
    if memory:
        current, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out["bytes_per_node"] = current / n
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--algo", required=True)
    p.add_argument("--actions", default="A")
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--first-seed", type=int, default=0,
                   help="run seeds first..first+seeds (to add seeds to an earlier run)")
    p.add_argument("--memory", action="store_true")
    a = p.parse_args()
    actions = a.actions.split(",")
    for seed in range(a.first_seed, a.first_seed + a.seeds):
        print(json.dumps(run(a.algo, actions, a.n, seed, a.memory)), flush=True)


if __name__ == "__main__":
    sys.exit(main())
