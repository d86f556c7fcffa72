"""The reference side of bench/bandit: the same bandit algorithms as Gaia's, timed per call.

* "numpy": a straightforward NumPy implementation written for this benchmark.
  Thompson sampling: Beta(alpha, beta) per arm (one vectorised rng.beta call), argmax; tell
  adds the reward to alpha/beta. LinTS (Agrawal & Goyal 2013): per arm B^-1 (kept by
  Sherman-Morrison), f and mu = B^-1 f; an ask draws per arm N(x.mu, v^2 x^T B^-1 x)
  (vectorised over arms with einsum) and takes the argmax; a tell updates one arm.
* "mabwiser": MABWiser (Fidelity's bandit library), LearningPolicy.ThompsonSampling and
  LearningPolicy.LinTS, used online: predict() for one request, partial_fit() with its reward.

Prints JSON lines {"impl", "case", "arms", "features", "us"} as the Rust example does.
Usage: reference.py [--quick] [--no-mabwiser]
"""

import json
import sys
import time

import numpy as np


def line(impl, case, arms, features, seconds, n):
    print(json.dumps({"impl": impl, "case": case, "arms": arms, "features": features,
                      "us": seconds * 1e6 / n}), flush=True)


class NumpyThompson:
    def __init__(self, k, seed):
        self.rng = np.random.default_rng(seed)
        self.alpha = np.ones(k)
        self.beta = np.ones(k)

    def ask(self):
        return int(np.argmax(self.rng.beta(self.alpha, self.beta)))

    def tell(self, arm, reward):
        self.alpha[arm] += reward
        self.beta[arm] += 1.0 - reward


class NumpyLinTS:
    def __init__(self, k, d, lam, v, seed):
        self.rng = np.random.default_rng(seed)
        self.v = v
        self.b_inv = np.repeat((np.eye(d) / lam)[None, :, :], k, axis=0)
        self.f = np.zeros((k, d))
        self.mu = np.zeros((k, d))

    def ask(self, x):
        means = self.mu @ x
        var = np.einsum("kij,i,j->k", self.b_inv, x, x)
        draws = means + self.v * np.sqrt(var) * self.rng.standard_normal(len(means))
        return int(np.argmax(draws))

    def tell(self, arm, x, reward):
        b = self.b_inv[arm]
        u = b @ x
        b -= np.outer(u, u) / (1.0 + x @ u)
        self.f[arm] += reward * x
        self.mu[arm] = b @ self.f[arm]


def bench_numpy(n, env):
    k = 16
    p = 0.2 + 0.6 * np.arange(k) / k
    u = env.random(1024)
    t = NumpyThompson(k, 1)
    for i in range(n // 10):
        a = t.ask()
        t.tell(a, float(u[i % 1024] < p[a]))
    start = time.perf_counter()
    for i in range(n):
        a = t.ask()
        t.tell(a, float(u[i % 1024] < p[a]))
    line("numpy", "thompson_ask_tell", k, 0, time.perf_counter() - start, n)

    d = 32
    m = max(n // 10, 1000)
    for k in (4, 16):
        b = NumpyLinTS(k, d, 1.0, 0.5, 1)
        contexts = env.random((256, d)) - 0.5
        rewards = env.random(256)
        for i in range(m):
            x = contexts[i % 256]
            b.tell(b.ask(x), x, rewards[i % 256])
        arms = []
        start = time.perf_counter()
        for i in range(m):
            arms.append(b.ask(contexts[i % 256]))
        line("numpy", "lints_ask", k, d, time.perf_counter() - start, m)
        start = time.perf_counter()
        for i, a in enumerate(arms):
            b.tell(a, contexts[i % 256], rewards[i % 256])
        line("numpy", "lints_tell", k, d, time.perf_counter() - start, m)
        start = time.perf_counter()
        for i in range(m):
            x = contexts[i % 256]
            b.tell(b.ask(x), x, rewards[i % 256])
        line("numpy", "lints_ask_tell", k, d, time.perf_counter() - start, m)


def bench_mabwiser(n, env):
    from mabwiser.mab import MAB, LearningPolicy

    k = 16
    arms = list(range(k))
    p = 0.2 + 0.6 * np.arange(k) / k
    u = env.random(1024)
    m = max(n // 100, 200)
    mab = MAB(arms, LearningPolicy.ThompsonSampling(), seed=1)
    mab.fit([i % k for i in range(k * 4)], [float(i % 2) for i in range(k * 4)])
    start = time.perf_counter()
    for i in range(m):
        a = mab.predict()
        mab.partial_fit([a], [float(u[i % 1024] < p[a])])
    line("mabwiser", "thompson_ask_tell", k, 0, time.perf_counter() - start, m)

    d = 32
    for k in (4, 16):
        arms = list(range(k))
        contexts = env.random((256, d)) - 0.5
        rewards = env.random(256)
        mab = MAB(arms, LearningPolicy.LinTS(alpha=0.5, l2_lambda=1.0), seed=1)
        warm = 4 * k
        mab.fit([i % k for i in range(warm)], rewards[:warm], contexts[:warm])
        mm = max(m // 2, 100)
        chosen = []
        start = time.perf_counter()
        for i in range(mm):
            chosen.append(mab.predict(contexts[i % 256 : i % 256 + 1]))
        line("mabwiser", "lints_ask", k, d, time.perf_counter() - start, mm)
        start = time.perf_counter()
        for i, a in enumerate(chosen):
            mab.partial_fit([a], rewards[i % 256 : i % 256 + 1], contexts[i % 256 : i % 256 + 1])
        line("mabwiser", "lints_tell", k, d, time.perf_counter() - start, mm)


def main():
    quick = "--quick" in sys.argv
    n = 20_000 if quick else 200_000
    env = np.random.default_rng(7)
    bench_numpy(n, env)
    if "--no-mabwiser" not in sys.argv:
        bench_mabwiser(n, env)


if __name__ == "__main__":
    main()
