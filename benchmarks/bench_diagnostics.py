"""Cost of the shift check next to the forward pass it guards.

Usage::

    python benchmarks/bench_diagnostics.py [--rows N] [--repeats R]

Network A as in the design (100 -> Dense 128 relu -> Dense 128 "embedding"
-> Dense 1), trained for one epoch on 2,000 seeded rows. It times
``KerasTransformer.transform`` on ``--rows`` (default 100,000) new rows with
``shift_check="warn"`` and with ``shift_check="off"``, and the drift check alone (both levels: the 100
inputs and the 128 outputs of network A's "embedding" layer, as
``transform`` runs it), best of ``--repeats`` (default 5), and prints the
share of the check in ``transform``'s time (the target is at most 5%).
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

from bench_predict import build_network_a  # noqa: E402

from skchain import KerasTransformer  # noqa: E402
from skchain.diagnostics import check_shift  # noqa: E402


def best_time(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    X_a = rng.normal(size=(2000, 100)).astype(np.float32)
    pre = KerasTransformer(build_network_a, loss="mse", epochs=1, random_state=0).fit(X_a, X_a[:, 0])
    X = rng.normal(size=(args.rows, 100)).astype(np.float32)
    pre.transform(X)  # trace once

    checked = best_time(lambda: pre.set_params(shift_check="warn").transform(X), args.repeats)
    unchecked = best_time(lambda: pre.set_params(shift_check="off").transform(X), args.repeats)
    layer = pre.output_layer_
    outputs = pre.representation(X, layer)
    compare = best_time(lambda: check_shift(
        pre.input_statistics_, X, mode="warn", alpha=pre.shift_alpha, feature_names=None,
        stage="bench", outputs=outputs, layer=layer,
        output_statistics=pre.representation_statistics_[layer],
    ), args.repeats)
    print(f"transform {args.rows} rows, shift_check='warn': {checked * 1e3:.1f} ms")
    print(f"transform {args.rows} rows, shift_check='off':  {unchecked * 1e3:.1f} ms")
    print(f"drift check alone (inputs and {outputs.shape[1]} outputs): {compare * 1e3:.2f} ms")
    print(f"shift check share of transform: {compare / checked:.1%} (target <= 5%)")
    prints = pre.training_fingerprints_
    print(f"leakage fingerprints: {prints.nbytes / len(X_a):.1f} bytes per training row")


if __name__ == "__main__":
    main()
