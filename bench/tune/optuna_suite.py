"""Optuna's half of the tune benchmark; Gaia's half is crates/gaia-core/examples/tune_suite.rs.

Both sides define the same tasks and print the same JSON lines, one per line on stdout:

  optuna_suite.py quality  [--seeds 10] [--trials 200] [--jobs 2] [--sampler tpe|cmaes|random]
      TPE, CMA-ES (or random search, for reference) on every task for seeds 0..seeds-1; one
      line per task and seed with the best value after 50, 100 and 200 trials. --jobs runs
      independent (task, seed) runs in parallel processes (this only changes wall time, not
      results).
  optuna_suite.py overhead [--max 2000] [--window 10] [--samplers random,tpe,cmaes] [--dims 5]
      study.ask() + study.tell() cost alone (the objective is not timed) on a sphere (5-D, or
      --dims) with each sampler of --samplers, seed 0, in-memory storage; one line per
      checkpoint with the mean microseconds per trial over the `window` trials just before it.
  optuna_suite.py check
      each task's objective at its known minimiser and at a fixed probe point, so report.py
      can confirm both sides compute the same functions.
  optuna_suite.py multi [--seeds 10] [--trials 300] [--sampler nsga2|tpe|random]
                        [--tasks zdt1,dtlz2,osy]
      the multi-objective tasks (Gaia's half: crates/gaia-core/examples/tune_multi_suite.rs):
      one line per task and seed with every trial's objective values and feasibility (so
      report.py computes all hypervolumes with one implementation) and the microseconds per
      ask + tell (set_constraint counted with the tell; the objective not timed).
  optuna_suite.py multi_check
      the multi-objective tasks at a fixed probe point, and Optuna's hypervolume of fixed
      point sets (Gaia prints its own for the same sets).

TPE is TPESampler(seed=s, multivariate=True, constant_liar=True), Gaia's {"type": "tpe"}
defaults; CMA-ES is CmaEsSampler(seed=s) with its defaults (warn_independent_sampling=False
only silences the log line for the mixed task's categorical), beside Gaia's {"type": "cmaes"}
(cmaes==0.13.1 is its backend). Parameters are declared through study.ask(fixed_distributions=...), so all sampling
happens inside ask() as it does in Gaia.

Several objectives: NSGA-II is NSGAIISampler(seed=s) with its defaults (population 50,
uniform crossover, crossover_prob 0.9, swapping_prob 0.5, mutation 1/n), beside Gaia's
{"type": "nsga2"}; TPE is TPESampler(seed=s, multivariate=True, constant_liar=True) as above
(Optuna 5's own multi-objective default is multivariate=False), beside Gaia's {"type": "tpe"}.
Constraints are set with trial.set_constraint, which both samplers read.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor

import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

QUALITY_CHECKPOINTS = (50, 100, 200)
SAMPLERS = ("random", "tpe", "cmaes")
OVERHEAD_CHECKPOINTS = (100, 500, 1000, 2000)


def box(d, low, high):
    return {f"x{i}": FloatDistribution(low, high) for i in range(1, d + 1)}


def xs(p, d):
    return [p[f"x{i}"] for i in range(1, d + 1)]


def branin(p):
    x1, x2 = p["x1"], p["x2"]
    b = 5.1 / (4.0 * math.pi**2)
    c = 5.0 / math.pi
    t = 1.0 / (8.0 * math.pi)
    return (x2 - b * x1 * x1 + c * x1 - 6.0) ** 2 + 10.0 * (1.0 - t) * math.cos(x1) + 10.0


HARTMANN_ALPHA = (1.0, 1.2, 3.0, 3.2)
HARTMANN_A = (
    (10.0, 3.0, 17.0, 3.5, 1.7, 8.0),
    (0.05, 10.0, 17.0, 0.1, 8.0, 14.0),
    (3.0, 3.5, 1.7, 10.0, 17.0, 8.0),
    (17.0, 8.0, 0.05, 10.0, 0.1, 14.0),
)
HARTMANN_P = (
    (1312.0, 1696.0, 5569.0, 124.0, 8283.0, 5886.0),
    (2329.0, 4135.0, 8307.0, 3736.0, 1004.0, 9991.0),
    (2348.0, 1451.0, 3522.0, 2883.0, 3047.0, 6650.0),
    (4047.0, 8828.0, 8732.0, 5743.0, 1091.0, 381.0),
)


def hartmann6(p):
    x = xs(p, 6)
    total = 0.0
    for i in range(4):
        inner = sum(HARTMANN_A[i][j] * (x[j] - 1e-4 * HARTMANN_P[i][j]) ** 2 for j in range(6))
        total += HARTMANN_ALPHA[i] * math.exp(-inner)
    return -total


def rosenbrock10(p):
    x = xs(p, 10)
    return sum(100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2 for i in range(9))


def ackley10(p):
    x = xs(p, 10)
    n = len(x)
    squares = sum(v * v for v in x) / n
    cosines = sum(math.cos(2.0 * math.pi * v) for v in x) / n
    return -20.0 * math.exp(-0.2 * math.sqrt(squares)) - math.exp(cosines) + 20.0 + math.e


def styblinski_tang10(p):
    return sum((v**4 - 16.0 * v * v + 5.0 * v) / 2.0 for v in xs(p, 10))


def mixed(p):
    offset = {"a": 0.0, "b": 0.5, "c": 1.0}[p["c"]]
    return (
        offset
        + sum((v - 1.0) ** 2 for v in xs(p, 3))
        + (p["n"] - 3) ** 2 / 10.0
        + (math.log10(p["lr"]) + 3.0) ** 2 / 10.0
    )


def sphere(p, dims):
    return sum(v * v for v in xs(p, dims))


def uniform(d, v):
    return {f"x{i}": v for i in range(1, d + 1)}


# Known minimisers, for the check mode (the same points as in tune_suite.rs).
ARGMIN = {
    "branin": {"x1": math.pi, "x2": 2.275},
    "hartmann6": {
        "x1": 0.20169, "x2": 0.150011, "x3": 0.476874,
        "x4": 0.275332, "x5": 0.311652, "x6": 0.6573,
    },
    "rosenbrock10": uniform(10, 1.0),
    "ackley10": uniform(10, 0.0),
    "styblinski_tang10": uniform(10, -2.903534),
    "mixed": {"c": "a", "x1": 1.0, "x2": 1.0, "x3": 1.0, "n": 3, "lr": 1e-3},
}


# name -> (dims, optimum, distributions, objective); keep identical to tune_suite.rs.
TASKS = {
    "branin": (
        2,
        0.397887,
        {"x1": FloatDistribution(-5.0, 10.0), "x2": FloatDistribution(0.0, 15.0)},
        branin,
    ),
    "hartmann6": (6, -3.32237, box(6, 0.0, 1.0), hartmann6),
    "rosenbrock10": (10, 0.0, box(10, -5.0, 10.0), rosenbrock10),
    "ackley10": (10, 0.0, box(10, -32.768, 32.768), ackley10),
    "styblinski_tang10": (10, -39.16617 * 10.0, box(10, -5.0, 5.0), styblinski_tang10),
    "mixed": (
        6,
        0.0,
        {
            "c": CategoricalDistribution(["a", "b", "c"]),
            **box(3, -5.0, 5.0),
            "n": IntDistribution(1, 10),
            "lr": FloatDistribution(1e-5, 1.0, log=True),
        },
        mixed,
    ),
}


def probe(dists):
    """A fixed point of a space, computed exactly as `probe` in tune_suite.rs."""
    p = {}
    for k, (name, d) in enumerate(dists.items()):
        f = math.modf(0.37 * (k + 1))[0]
        if isinstance(d, CategoricalDistribution):
            p[name] = d.choices[k % len(d.choices)]
        elif isinstance(d, IntDistribution):
            p[name] = math.floor(d.low + (d.high - d.low) * f)
        elif d.log:
            p[name] = math.exp(math.log(d.low) + (math.log(d.high) - math.log(d.low)) * f)
        else:
            p[name] = d.low + (d.high - d.low) * f
    return p


def check():
    for task, (_, optimum, dists, objective) in TASKS.items():
        line = {
            "side": "optuna", "mode": "check", "version": optuna.__version__, "task": task,
            "optimum": optimum,
            "at_argmin": objective(ARGMIN[task]), "at_probe": objective(probe(dists)),
        }
        print(json.dumps(line), flush=True)


def quiet():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def make_study(sampler, seed):
    if sampler == "tpe":
        s = optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True)
    elif sampler == "cmaes":
        s = optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    else:
        s = optuna.samplers.RandomSampler(seed=seed)
    return optuna.create_study(direction="minimize", sampler=s)


def quality_run(task, seed, trials, sampler="tpe"):
    quiet()
    dims, optimum, dists, objective = TASKS[task]
    start = time.perf_counter()
    study = make_study(sampler, seed)
    best = math.inf
    best_at = {}
    for n in range(1, trials + 1):
        trial = study.ask(fixed_distributions=dists)
        value = objective(trial.params)
        study.tell(trial, value)
        best = min(best, value)
        if n in QUALITY_CHECKPOINTS or n == trials:
            best_at[str(n)] = best
    return {
        "side": "optuna", "mode": "quality", "task": task, "dims": dims, "optimum": optimum,
        "sampler": sampler, "seed": seed, "trials": trials, "best_at": best_at,
        "seconds": time.perf_counter() - start,
    }


def quality(seeds, trials, jobs, sampler="tpe"):
    runs = [(task, seed) for task in TASKS for seed in range(seeds)]
    if jobs <= 1:
        results = (quality_run(t, s, trials, sampler) for t, s in runs)
        for line in results:
            print(json.dumps(line), flush=True)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(quality_run, t, s, trials, sampler) for t, s in runs]
        for f in futures:
            print(json.dumps(f.result()), flush=True)


def overhead(max_trials, window, samplers=SAMPLERS, dims=5):
    quiet()
    dists = box(dims, -5.0, 5.0)
    for sampler in samplers:
        study = make_study(sampler, 0)
        costs = []
        start = time.perf_counter()
        for _ in range(max_trials):
            t0 = time.perf_counter()
            trial = study.ask(fixed_distributions=dists)
            asked = time.perf_counter() - t0
            value = sphere(trial.params, dims)
            t1 = time.perf_counter()
            study.tell(trial, value)
            costs.append((asked + time.perf_counter() - t1) * 1e6)
        total = time.perf_counter() - start
        for at in (a for a in OVERHEAD_CHECKPOINTS if a <= max_trials):
            chunk = costs[max(0, at - window):at]
            line = {
                "side": "optuna", "mode": "overhead", "task": f"sphere{dims}", "sampler": sampler,
                "seed": 0, "at": at, "window": len(chunk),
                "us_per_trial": sum(chunk) / len(chunk), "total_seconds": total,
            }
            print(json.dumps(line), flush=True)


# Multi-objective tasks, every objective minimised; keep identical to tune_multi_suite.rs.
def zdt1(x):
    g = 1.0 + 9.0 * sum(x[1:]) / (len(x) - 1)
    return [x[0], g * (1.0 - math.sqrt(x[0] / g))], []


def dtlz2(x):
    g = sum((v - 0.5) ** 2 for v in x[2:])
    a, b = x[0] * math.pi / 2.0, x[1] * math.pi / 2.0
    return [
        (1.0 + g) * math.cos(a) * math.cos(b),
        (1.0 + g) * math.cos(a) * math.sin(b),
        (1.0 + g) * math.sin(a),
    ], []


def osy(x):
    """Osyczka and Kundu (1995), as in the NSGA-II paper; g(x) >= 0 reported as -g(x) <= 0."""
    f1 = -(
        25.0 * (x[0] - 2.0) ** 2
        + (x[1] - 2.0) ** 2
        + (x[2] - 1.0) ** 2
        + (x[3] - 4.0) ** 2
        + (x[4] - 1.0) ** 2
    )
    f2 = sum(v * v for v in x)
    g = [
        x[0] + x[1] - 2.0,
        6.0 - x[0] - x[1],
        2.0 - x[1] + x[0],
        2.0 - x[0] + 3.0 * x[1],
        4.0 - (x[2] - 3.0) ** 2 - x[3],
        (x[4] - 3.0) ** 2 + x[5] - 4.0,
    ]
    return [f1, f2], [-v for v in g]


def osy_bounds(i):
    return (1.0, 5.0) if i in (2, 4) else (0.0, 6.0) if i == 3 else (0.0, 10.0)


# name -> (dims, objectives, constraints, bounds of x_{i+1}, function)
MULTI_TASKS = {
    "zdt1": (10, 2, 0, lambda i: (0.0, 1.0), zdt1),
    "dtlz2": (7, 3, 0, lambda i: (0.0, 1.0), dtlz2),
    "osy": (6, 2, 6, osy_bounds, osy),
}
MULTI_SAMPLERS = ("nsga2", "tpe", "random")


def make_multi_study(sampler, seed, n_objectives):
    if sampler == "nsga2":
        s = optuna.samplers.NSGAIISampler(seed=seed)
    elif sampler == "tpe":
        s = optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True)
    else:
        s = optuna.samplers.RandomSampler(seed=seed)
    return optuna.create_study(directions=["minimize"] * n_objectives, sampler=s)


def multi_run(task, seed, trials, sampler):
    quiet()
    dims, n_objectives, _, bounds, evaluate = MULTI_TASKS[task]
    dists = {f"x{i + 1}": FloatDistribution(*bounds(i)) for i in range(dims)}
    study = make_multi_study(sampler, seed, n_objectives)
    values, feasible, spent = [], [], 0.0
    for _ in range(trials):
        t0 = time.perf_counter()
        trial = study.ask(fixed_distributions=dists)
        spent += time.perf_counter() - t0
        v, c = evaluate([trial.params[f"x{i + 1}"] for i in range(dims)])
        t1 = time.perf_counter()
        for k, ck in enumerate(c):
            trial.set_constraint(f"c{k + 1}", ck)
        study.tell(trial, v)
        spent += time.perf_counter() - t1
        values.append(v)
        feasible.append(all(ck <= 0.0 for ck in c))
    return {
        "side": "optuna", "mode": "multi", "task": task, "sampler": sampler, "seed": seed,
        "trials": trials, "n_objectives": n_objectives, "values": values, "feasible": feasible,
        "us_per_trial": spent * 1e6 / trials,
    }


def multi(seeds, trials, jobs, sampler, tasks):
    runs = [(task, seed) for task in tasks for seed in range(seeds)]
    if jobs <= 1:
        for t, s in runs:
            print(json.dumps(multi_run(t, s, trials, sampler)), flush=True)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(multi_run, t, s, trials, sampler) for t, s in runs]
        for f in futures:
            print(json.dumps(f.result()), flush=True)


def hv_sets():
    """Point sets whose hypervolumes both sides compute (hv_sets in tune_multi_suite.rs)."""
    sets = []
    for m, n in ((2, 30), (3, 40), (4, 12)):
        points = [[math.modf(0.61 * (i * m + d + 1))[0] for d in range(m)] for i in range(n)]
        sets.append((points, [1.1] * m))
    return sets


def multi_check():
    import numpy as np
    from optuna._hypervolume import compute_hypervolume

    for task, (dims, _, _, bounds, evaluate) in MULTI_TASKS.items():
        x = []
        for k in range(dims):
            low, high = bounds(k)
            x.append(low + (high - low) * math.modf(0.37 * (k + 1))[0])
        values, constraints = evaluate(x)
        line = {"side": "optuna", "mode": "multi_check", "task": task, "at_probe": values,
                "constraints_at_probe": constraints}
        print(json.dumps(line), flush=True)
    for k, (points, reference) in enumerate(hv_sets()):
        hv = compute_hypervolume(np.array(points), np.array(reference))
        print(json.dumps({"side": "optuna", "mode": "hv_check", "set": k,
                          "hypervolume": float(hv)}), flush=True)


def tasks_arg(text):
    names = tuple(t for t in text.split(",") if t)
    unknown = [n for n in names if n not in MULTI_TASKS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown tasks {unknown} (known: {list(MULTI_TASKS)})")
    return names


def samplers_arg(text):
    names = tuple(text.split(","))
    unknown = [n for n in names if n not in SAMPLERS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown samplers {unknown} (known: {SAMPLERS})")
    return names


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    q = sub.add_parser("quality")
    q.add_argument("--seeds", type=int, default=10)
    q.add_argument("--trials", type=int, default=200)
    q.add_argument("--jobs", type=int, default=1)
    q.add_argument("--sampler", choices=SAMPLERS, default="tpe")
    o = sub.add_parser("overhead")
    o.add_argument("--max", type=int, default=2000)
    o.add_argument("--window", type=int, default=10)
    o.add_argument("--samplers", type=samplers_arg, default=SAMPLERS)
    o.add_argument("--dims", type=int, default=5)
    sub.add_parser("check")
    mo = sub.add_parser("multi")
    mo.add_argument("--seeds", type=int, default=10)
    mo.add_argument("--trials", type=int, default=300)
    mo.add_argument("--jobs", type=int, default=1)
    mo.add_argument("--sampler", choices=MULTI_SAMPLERS, default="nsga2")
    mo.add_argument("--tasks", type=tasks_arg, default=tuple(MULTI_TASKS))
    sub.add_parser("multi_check")
    args = ap.parse_args()
    if args.mode == "quality":
        quality(args.seeds, args.trials, args.jobs, args.sampler)
    elif args.mode == "check":
        check()
    elif args.mode == "multi":
        multi(args.seeds, args.trials, args.jobs, args.sampler, args.tasks)
    elif args.mode == "multi_check":
        multi_check()
    else:
        overhead(args.max, args.window, args.samplers, args.dims)
    return 0


if __name__ == "__main__":
    sys.exit(main())
