"""Reads a Gaia shared study with Optuna's own code (tests/shared_study/run.sh runs it with the
Optuna 5.0.0 venv of scripts/optuna-venv.sh) and checks what Optuna sees:

  check_optuna.py STORAGE STUDY_NAME EXPECTED_TRIALS EXPECTED_BEST [TOLD_FILE...]

STORAGE is an SQLAlchemy URL (mysql+pymysql://...), EXPECTED_TRIALS the trial count SQL
found, EXPECTED_BEST the minimum COMPLETE value SQL found, and each TOLD_FILE a worker's
"id value" lines, whose values Optuna must read back exactly. Prints PASS/FAIL per check and
a summary; exits 1 if any check failed.
"""

import collections
import math
import sys
import time

import optuna

CHOICES = ("a", "b", "c")


def objective(x, y, c):
    """The workers' objective (tests/shared_study/worker.c), in the same operation order."""
    dx, dy = x - 1.25, float(y) - 7.0
    return dx * dx + 0.5 * dy * dy + 0.25 * float(CHOICES.index(c))


def main(argv):
    if len(argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    storage, name, expected_trials, expected_best = argv[1], argv[2], int(argv[3]), float(argv[4])
    told, unreadable = {}, []
    for path in argv[5:]:
        try:
            with open(path) as f:
                for line in f:
                    tid, value = line.split()
                    told[int(tid)] = float(value)
        except (OSError, ValueError) as e:
            unreadable.append(f"{path}: {e}")

    failures = []

    def check(ok, what):
        print(("PASS" if ok else "FAIL") + ": optuna: " + what)
        if not ok:
            failures.append(what)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    t0 = time.monotonic()
    study = optuna.load_study(study_name=name, storage=storage)
    trials = study.get_trials(deepcopy=False)
    load_s = time.monotonic() - t0

    check(len(trials) == expected_trials,
          f"len(study.trials) = {len(trials)}, SQL counted {expected_trials}")
    numbers = sorted(t.number for t in trials)
    check(numbers == list(range(len(trials))), "trial numbers are exactly 0..n-1")
    check(study.direction == optuna.study.StudyDirection.MINIMIZE,
          f"direction is MINIMIZE (got {study.direction.name})")

    best = study.best_value
    check(math.isclose(best, expected_best, rel_tol=1e-12, abs_tol=0.0),
          f"best_value {best!r} equals SQL's minimum COMPLETE value {expected_best!r}"
          f" ({'exactly' if best == expected_best else 'within 1e-12'})")

    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    bad_params, bad_dists, bad_values = [], [], []
    for t in complete:
        p = t.params
        if (set(p) != {"x", "y", "c"} or type(p.get("x")) is not float
                or type(p.get("y")) is not int or type(p.get("c")) is not str
                or p["c"] not in CHOICES or not -5 <= p["x"] <= 5 or not 0 <= p["y"] <= 20):
            bad_params.append((t.number, p))
            continue
        d = t.distributions
        if not (isinstance(d["x"], optuna.distributions.FloatDistribution)
                and (d["x"].low, d["x"].high, d["x"].log) == (-5.0, 5.0, False)
                and isinstance(d["y"], optuna.distributions.IntDistribution)
                and (d["y"].low, d["y"].high) == (0, 20)
                and isinstance(d["c"], optuna.distributions.CategoricalDistribution)
                and tuple(d["c"].choices) == CHOICES):
            bad_dists.append((t.number, d))
        f = objective(p["x"], p["y"], p["c"])
        if t.value is None or not math.isclose(t.value, f, rel_tol=1e-12, abs_tol=1e-300):
            bad_values.append((t.number, t.value, f))
    check(not bad_params, f"every COMPLETE trial ({len(complete)}) has params x: float in [-5, 5],"
          f" y: int in [0, 20], c: str in {CHOICES} (bad: {bad_params[:3]})")
    check(not bad_dists, f"every COMPLETE trial has Optuna's distributions for x, y, c"
          f" (bad: {bad_dists[:3]})")
    check(not bad_values, f"every COMPLETE trial's value is the objective of its params"
          f" (bad: {bad_values[:3]})")

    if unreadable:
        check(False, f"read the workers' output files ({unreadable[:3]})")
    if told:
        by_number = {t.number: t for t in trials}
        wrong = [(i, v, by_number[i].state.name if i in by_number else None,
                  by_number[i].value if i in by_number else None)
                 for i, v in told.items()
                 if i not in by_number or by_number[i].state != optuna.trial.TrialState.COMPLETE
                 or by_number[i].value != v]
        check(not wrong, f"Optuna reads every told value ({len(told)}) back exactly"
              f" (wrong: {wrong[:3]})")

    states = collections.Counter(t.state.name for t in trials)
    bt = study.best_trial
    print(f"optuna {optuna.__version__}: study {name!r} loaded in {load_s:.2f} s:"
          f" {len(trials)} trials {dict(sorted(states.items()))};"
          f" best #{bt.number} value {bt.value!r} params {bt.params}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
