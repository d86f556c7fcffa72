"""Computes, once, the reference for Gaia's AB-MCTS-M fit: treequest's hierarchical model
(mu_alpha ~ N(0.5, 0.2^2), sigma_alpha ~ HalfNormal(0.2), sigma_y ~ HalfNormal(0.3),
alpha_j = mu_alpha + z_j sigma_alpha, y ~ N(alpha_j, sigma_y^2)) fitted with PyMC's NUTS on
fixed small trees; writes the posterior-predictive means of each child group's next score
and of a new group's (GEN) to tests/vectors/mcts_m_pymc.json, which a Rust test compares
with Gaia's quadrature fit. Run by hand (pip install pymc into bench/mcts/.venv):
    bench/mcts/.venv/bin/python bench/mcts/pymc_reference.py
"""

import json
import sys
from pathlib import Path

import numpy as np
import pymc as pm

TREES = [
    [[0.2, 0.3], [0.8]],
    [[0.9, 0.85, 0.95], [0.1, 0.2], [0.5]],
    [[0.4]],
    [[0.5, 0.6, 0.55, 0.7], [0.3], [0.9, 0.1], [0.65, 0.62]],
    [[0.05, 0.1, 0.08], [0.12]],
]


def fit(groups, seed):
    idx = np.concatenate([[j] * len(g) for j, g in enumerate(groups)]).astype(int)
    y = np.concatenate(groups)
    with pm.Model(coords={"child_idx": list(range(len(groups)))}):
        mu_alpha = pm.Normal("mu_alpha", mu=0.5, sigma=0.2)
        sigma_alpha = pm.HalfNormal("sigma_alpha", sigma=0.2)
        sigma_y = pm.HalfNormal("sigma_y", sigma=0.3)
        z = pm.Normal("z_alpha", 0, 1, dims="child_idx")
        alpha = pm.Deterministic("alpha", mu_alpha + z * sigma_alpha, dims="child_idx")
        pm.Normal("y", mu=alpha[idx], sigma=sigma_y, observed=y)
        trace = pm.sample(draws=4000, tune=3000, chains=2, cores=1, random_seed=seed,
                          target_accept=0.95, progressbar=False)
    post = trace.posterior
    # E[y_j | data] = E[alpha_j]; E[y_new | data] = E[mu_alpha] (z_new and noise have mean 0).
    means = [float(post["alpha"].sel(child_idx=j).mean()) for j in range(len(groups))]
    return means, float(post["mu_alpha"].mean())


def main():
    out = {"format": "gaia.vectors.mcts_m", "version": 1, "pymc": pm.__version__,
           "model": "treequest AB-MCTS-M: mu_alpha N(0.5, 0.2), sigma_alpha HN(0.2), sigma_y HN(0.3)",
           "cases": []}
    for k, groups in enumerate(TREES):
        means, new = fit(groups, seed=k)
        out["cases"].append({"groups": groups, "means": means, "new": new})
        print(groups, [round(m, 4) for m in means], round(new, 4), file=sys.stderr)
    dst = Path(__file__).resolve().parents[2] / "tests" / "vectors" / "mcts_m_pymc.json"
    dst.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
