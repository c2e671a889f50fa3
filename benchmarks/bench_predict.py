"""Prediction speed of a fitted skchain chain against three other ways to run it.

Usage::

    python benchmarks/bench_predict.py [--rows N] [--repeats R] [--quick]

``--rows`` defaults to 100,000 (20,000 with ``--quick``), ``--repeats`` to 8
(on a shared 2-core machine the best of 3 varied by +-20% between runs).

Setup (synthetic, seeded with ``np.random.default_rng(0)``):

* dataset A: 2,000 rows of 100 float32 features and a nonlinear target;
  network A is ``Input(100) -> Dense(128, relu, "hidden") ->
  Dense(128, "embedding") -> Dense(1)``, trained for one epoch by
  ``skchain.KerasTransformer`` (training quality does not matter here);
* dataset B: a DataFrame with the same 100 A-like columns ``a0..a99``, 32
  numeric columns ``n0..n31`` and a continuous target; the chain is
  ``skchain.make_chain(pre, representation_columns=a0..a99,
  numeric_columns=n0..n31, representation_passthrough=False,
  regressor=ChainRegressor(hidden_units=(64,), branch_units=64, epochs=1))``
  fitted on 2,000 rows. The final network learns the standardised target;
  every path turns its outputs back into the target's units.

Every path below runs the same fitted networks and scalers:

naive scikeras pipeline
    What a user writes today without skchain: network A's scaler, then
    ``Model.predict`` of a sub-model ending at ``embedding`` and
    ``Model.predict`` of the final network, both with Keras' default batch
    size (32), and the chain's fitted numeric ``StandardScaler``. Written as a
    plain function rather than a ``ColumnTransformer``, so it carries no
    scikit-learn dispatch overhead: a lower bound on that pipeline's cost.
chain.predict
    The skchain path: ``Pipeline.predict`` on the DataFrame.
direct calls
    Both networks called eagerly as ``model(x, training=False)`` on whole
    arrays, the two standard scalings done in numpy.
fused graph reference
    One Keras functional model (A's scaling as a ``Normalization`` layer, A's
    layers up to ``embedding``, the final network) inside a ``tf.function``
    with a fixed input signature. It is called on float32 arrays that were
    extracted from the DataFrame, and the numeric block scaled, beforehand:
    it excludes all DataFrame handling and is a floor, not a competitor.

Measurements: the median latency of predicting one row (a one-row DataFrame,
``df.iloc[[i]]``; for the fused graph, one-row arrays) over 52 calls after 3
warm-up calls, a different row each call, and rows per second on ``--rows``
rows, best of ``--repeats`` calls after one warm-up call. The paths take
turns: every row, and every large batch, goes through each path in turn
before the next one, so that a change in the machine's speed while the
benchmark runs (a shared virtual machine drifts by tens of percent within a
minute) reaches every path alike. What one path leaves behind (cold caches
after the naive pipeline's 150 ms of Python, memory, threads) must reach
every path alike too, so for the latencies the order of each round is a row
of a Williams design, and each round starts with an untimed call of its
first path on a row of its own (``_timing.call_sequence``): over the 13
whole cycles of 4 rounds, every timed call comes right after each path,
itself included, equally often. (Until 2026-12-01 the order was rotated,
which keeps each path after the same neighbour: ``chain.predict`` ran right
after the naive pipeline in 38 of 50 calls, the fused graph after the direct
calls in 37 of 49; rows of the design without the leading call put the
fused graph after the naive pipeline in half its calls, the chain in a
quarter.) The large batches take turns in the rows of the design without a
leading call (a best-of-``--repeats`` measurement, less sensitive to its
neighbour than a median of one-row calls). Each large-batch call
gets a new DataFrame: ``chain.predict`` caches network A's output by the
content of its input rows, so repeating one DataFrame would time a cache
hit. The largest absolute difference of each path's predictions from
``chain.predict`` on the large batch, relative to the standard deviation of
the predictions, is printed as a correctness check.

Absolute numbers depend on the machine and on whatever else runs on it; only
the ratios between paths measured in the same run are meaningful.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scikeras  # noqa: E402
import sklearn  # noqa: E402
import tensorflow as tf  # noqa: E402
from _targets import report_target  # noqa: E402
from _timing import balanced_orders, call_sequence  # noqa: E402

from skchain import ChainRegressor, KerasTransformer, make_chain  # noqa: E402

# Issue 25's targets (ratios measured in one run; the rows/s one is stated for 100,000 rows).
LATENCY_TARGET = "chain.predict 1 row latency / fused graph's"
THROUGHPUT_TARGET = "chain.predict rows/s / fused graph's"
TARGETS = {
    LATENCY_TARGET: ("<=", 2.0, "x"),
    THROUGHPUT_TARGET: (">=", 0.9, "x"),
}

N_A_FEATURES = 100
N_NUMERIC = 32
FIT_ROWS = 2_000
LATENCY_WARMUP = 3
LATENCY_CALLS = 52  # 13 whole cycles of the 4 paths' orders (_timing.call_sequence)
A_COLS = [f"a{i}" for i in range(N_A_FEATURES)]
N_COLS = [f"n{i}" for i in range(N_NUMERIC)]
NAIVE, CHAIN, DIRECT, FUSED = (
    "naive scikeras pipeline",
    "chain.predict",
    "direct calls",
    "fused graph",
)


# ------------------------------------------------------------------- data
def a_target(X):
    """Nonlinear target of dataset A's features."""
    return (np.sin(X[:, :10]).sum(axis=1) + 0.5 * (X[:, 10:20] ** 2).mean(axis=1)).astype(
        np.float32
    )


def make_dataset_a(rng, n_rows):
    """Dataset A: ``(X, y)`` with 100 float32 features."""
    X = rng.normal(size=(n_rows, N_A_FEATURES)).astype(np.float32)
    return X, a_target(X)


def make_dataset_b(rng, n_rows):
    """Dataset B: a DataFrame ``a0..a99, n0..n31`` and a continuous target."""
    A = rng.normal(size=(n_rows, N_A_FEATURES)).astype(np.float32)
    N = rng.normal(loc=3.0, scale=2.0, size=(n_rows, N_NUMERIC)).astype(np.float32)
    y = a_target(A) + 0.1 * N[:, :8].sum(axis=1) + rng.normal(scale=0.1, size=n_rows)
    df = pd.concat([pd.DataFrame(A, columns=A_COLS), pd.DataFrame(N, columns=N_COLS)], axis=1)
    return df, y.astype(np.float32)


def build_network_a(meta):
    """Network A: 100 inputs, a 128-wide ``embedding`` layer, one output."""
    inputs = keras.Input((meta["n_features_in_"],))
    x = keras.layers.Dense(128, activation="relu", name="hidden")(inputs)
    x = keras.layers.Dense(128, name="embedding")(x)
    return keras.Model(inputs, keras.layers.Dense(1, name="head")(x))


def fit_network_a(rng):
    """Network A, trained for one epoch on dataset A."""
    X_a, y_a = make_dataset_a(rng, FIT_ROWS)
    return KerasTransformer(
        build_network_a, output_layer="embedding", loss="mse", epochs=1, random_state=0
    ).fit(X_a, y_a)


def fit_chain(rng):
    """Train network A on dataset A, then fit the chain on dataset B."""
    pre = fit_network_a(rng)
    df_b, y_b = make_dataset_b(rng, FIT_ROWS)
    chain = make_chain(
        pre,
        representation_columns=A_COLS,
        numeric_columns=N_COLS,
        representation_passthrough=False,  # the blocks the three references compute
        regressor=ChainRegressor(hidden_units=(64,), branch_units=64, epochs=1, random_state=0),
    )
    return pre, chain.fit(df_b, y_b)


# ------------------------------------------------------------------ paths
def block_order(chain):
    """Names of the final network's input blocks, in the order of its inputs."""
    return [name for name, _, _ in chain.named_steps["regressor"].input_blocks_]


def make_paths(pre, chain):
    """The four prediction paths, each a function of a DataFrame (fused: of arrays).

    Returns
    -------
    paths : dict of str to callable
        ``NAIVE``, ``CHAIN`` and ``DIRECT`` take a DataFrame; ``FUSED`` takes
        ``(A-like float32 array, scaled numeric float32 array)``.
    fused_inputs : callable
        Extracts the fused graph's two arrays from a DataFrame (not timed).
    """
    model_a = pre.model_
    sub_model = keras.Model(model_a.inputs[0], model_a.get_layer("embedding").output)
    final_model = chain.named_steps["regressor"].model_
    order = block_order(chain)
    numeric_scaler = chain.named_steps["features"].named_transformers_["numeric"]
    a_mean, a_scale = (v.astype(np.float32) for v in (pre.scaler_.mean_, pre.scaler_.scale_))
    target = chain.named_steps["regressor"].target_scaler_
    y_mean, y_scale = (np.float32(v[0]) for v in (target.mean_, target.scale_))
    n_mean, n_scale = (v.astype(np.float32) for v in (numeric_scaler.mean_, numeric_scaler.scale_))

    def naive(df):
        Xa = pre.scaler_.transform(df[A_COLS].to_numpy(np.float32))
        Z = sub_model.predict(Xa, verbose=0)
        N = np.asarray(numeric_scaler.transform(df[N_COLS]), dtype=np.float32)
        blocks = {"representation": Z, "numeric": N}
        return final_model.predict([blocks[b] for b in order], verbose=0)[:, 0] * y_scale + y_mean

    def direct(df):
        Xa = (df[A_COLS].to_numpy(np.float32) - a_mean) / a_scale
        Z = sub_model(Xa, training=False)
        N = keras.ops.convert_to_tensor((df[N_COLS].to_numpy(np.float32) - n_mean) / n_scale)
        blocks = {"representation": Z, "numeric": N}
        return (
            np.asarray(final_model([blocks[b] for b in order], training=False))[:, 0] * y_scale
            + y_mean
        )

    a_in = keras.Input((N_A_FEATURES,), name="a")
    n_in = keras.Input((N_NUMERIC,), name="n")
    z = keras.layers.Normalization(mean=a_mean, variance=a_scale**2)(a_in)
    for name in ("hidden", "embedding"):
        z = model_a.get_layer(name)(z)
    blocks = {"representation": z, "numeric": n_in}
    fused_model = keras.Model([a_in, n_in], final_model([blocks[b] for b in order]))
    fused_fn = tf.function(
        lambda a, n: fused_model([a, n], training=False) * y_scale + y_mean,
        input_signature=[
            tf.TensorSpec((None, N_A_FEATURES), tf.float32),
            tf.TensorSpec((None, N_NUMERIC), tf.float32),
        ],
        autograph=False,
    )

    def fused(a, n):
        return fused_fn(a, n).numpy()[:, 0]

    def fused_inputs(df):
        a = np.ascontiguousarray(df[A_COLS].to_numpy(np.float32))
        n = np.ascontiguousarray((df[N_COLS].to_numpy(np.float32) - n_mean) / n_scale)
        return a, n

    paths = {NAIVE: naive, CHAIN: chain.predict, DIRECT: direct, FUSED: fused}
    return paths, fused_inputs


# ----------------------------------------------------------------- timing
def call_args(name, df, fused_inputs):
    """Arguments of path ``name`` for the rows of ``df``."""
    return fused_inputs(df) if name == FUSED else (df,)


def in_turn(paths, round_):
    """The paths' ``(name, function)`` pairs in round ``round_``'s order: the rows of a
    Williams design in turn, so that every path runs right after every other one equally
    often (``_timing.balanced_orders``)."""
    items = list(paths.items())
    orders = balanced_orders(len(items))
    return [items[k] for k in orders[round_ % len(orders)]]


def median_latencies(paths, warmup, timed, leading):
    """Median seconds of each path's ``timed`` calls, after its ``warmup`` calls.

    ``warmup``, ``timed``, ``leading``: ``{name: [args, ...]}``. The paths take
    turns in the rounds of ``_timing.call_sequence``: round ``r`` times one
    call of each path on ``timed[name][r]``, led by an untimed call of its
    first path on ``leading[name][r]``, so that every timed call comes right
    after each path equally often.
    """
    for name, fn in paths.items():
        for args in warmup[name]:
            fn(*args)
    names = list(paths)
    rounds, cycle = len(timed[names[0]]), len(balanced_orders(len(names)))
    if rounds % cycle:  # the balance holds over whole cycles of the design only
        raise ValueError(f"{rounds} timed calls per path; expected a multiple of {cycle}")
    times = {name: [] for name in paths}
    for i, (path, is_timed) in enumerate(call_sequence(len(names), rounds)):
        name, round_ = names[path], i // (len(names) + 1)  # n + 1 calls a round
        if not is_timed:
            paths[name](*leading[name][round_])
            continue
        start = time.perf_counter()
        paths[name](*timed[name][round_])
        times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def best_seconds(fn, frames):
    """Best seconds of ``fn(frame)`` over ``frames``."""
    best = float("inf")
    for frame in frames:
        start = time.perf_counter()
        fn(frame)
        best = min(best, time.perf_counter() - start)
    return best


def best_throughputs(paths, frames, make_args):
    """Rows/s of each path, best over ``frames[1:]``, and its predictions on ``frames[0]``.

    The paths take turns, frame by frame. Every timed call gets rows it has not
    seen, so that no path (skchain's representation cache in particular) is
    timed on a repeat of earlier rows. Every call's arguments are made before
    the first timed call: made in turn, the fused graph's arrays (~22 ms of
    reading a 100,000-row frame) would always be written right before its own
    timed call, never another path's.
    """
    predictions = {
        name: np.asarray(fn(*make_args(name, frames[0])), dtype=np.float64).ravel()
        for name, fn in paths.items()
    }
    arguments = [{name: make_args(name, frame) for name in paths} for frame in frames[1:]]
    best = {name: float("inf") for name in paths}
    for round_, made in enumerate(arguments):
        for name, fn in in_turn(paths, round_):
            args = made[name]
            start = time.perf_counter()
            fn(*args)
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: len(frames[0]) / best[name] for name in paths}, predictions


def environment():
    """One line with the library versions and the CPU count."""
    return (
        f"tensorflow {tf.__version__}, keras {keras.__version__}, scikeras"
        f" {scikeras.__version__}, scikit-learn {sklearn.__version__}, numpy"
        f" {np.__version__}, pandas {pd.__version__}, os.cpu_count()={os.cpu_count()}"
    )


def parse_args(argv=None):
    """Command-line options; ``--quick`` means 20,000 rows unless ``--rows`` is given."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=None, help="rows of the large batch (100,000)")
    parser.add_argument("--repeats", type=int, default=8, help="timed large-batch calls per path")
    parser.add_argument("--quick", action="store_true", help="20,000 rows unless --rows is given")
    args = parser.parse_args(argv)
    if args.rows is None:
        args.rows = 20_000 if args.quick else 100_000
    return args


def main(argv=None):
    args = parse_args(argv)
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    pre, chain = fit_chain(rng)
    paths, fused_inputs = make_paths(pre, chain)
    frames = [make_dataset_b(rng, args.rows)[0] for _ in range(args.repeats + 1)]
    # Every call gets a row of its own (chain.predict caches network A's output by content).
    rows = [frames[0].iloc[[i]] for i in range(LATENCY_WARMUP + 2 * LATENCY_CALLS)]
    timed_end = LATENCY_WARMUP + LATENCY_CALLS
    parts = {
        "warmup": rows[:LATENCY_WARMUP],
        "timed": rows[LATENCY_WARMUP:timed_end],
        "leading": rows[timed_end:],
    }
    latency = median_latencies(
        paths,
        **{
            part: {
                name: [call_args(name, row, fused_inputs) for row in part_rows] for name in paths
            }
            for part, part_rows in parts.items()
        },
    )
    rps, predictions = best_throughputs(
        paths, frames, lambda name, frame: call_args(name, frame, fused_inputs)
    )
    results = {name: (latency[name], rps[name], predictions[name]) for name in paths}

    reference = results[CHAIN][2]
    spread = reference.std()
    header = f"rows/s ({args.rows} rows)"
    print(f"{'path':<24} {'1-row latency':>14} {header:>22} {'max|diff|/std':>14}")
    for name, (latency, rps, predictions) in results.items():
        rel = np.max(np.abs(predictions - reference)) / spread
        print(f"{name:<24} {latency * 1e3:>11.3f} ms {rps:>22,.0f} {rel:>14.2e}")
    print(f"(fused graph: arrays already extracted from the DataFrame; {CHAIN} is the reference)")

    lat = {name: r[0] for name, r in results.items()}
    rps = {name: r[1] for name, r in results.items()}
    print(
        f"{CHAIN} {args.rows} rows: {rps[CHAIN] / rps[FUSED]:.2f}x {FUSED} rows/s,"
        f" {rps[CHAIN] / rps[DIRECT]:.2f}x {DIRECT},"
        f" {rps[CHAIN] / rps[NAIVE]:.1f}x {NAIVE}"
    )
    print(
        f"{CHAIN} 1 row: {lat[CHAIN] / lat[FUSED]:.1f}x {FUSED} latency,"
        f" {lat[CHAIN] / lat[DIRECT]:.2f}x {DIRECT} latency,"
        f" {lat[NAIVE] / lat[CHAIN]:.1f}x faster than {NAIVE}"
    )
    read = best_seconds(fused_inputs, frames[1:])
    fused_seconds = args.rows / rps[FUSED]
    print(
        f"reading the frame (the fused graph's arrays out of the DataFrame, not in its time):"
        f" {read * 1e3:.1f} ms for {args.rows} rows, {read / fused_seconds:.0%} of the fused"
        f" graph's call; fused graph with the reading: {args.rows / (read + fused_seconds):,.0f}"
        f" rows/s, chain.predict {rps[CHAIN] * (read + fused_seconds) / args.rows:.2f}x of it"
    )
    report_target(TARGETS, LATENCY_TARGET, lat[CHAIN] / lat[FUSED])
    report_target(
        TARGETS,
        THROUGHPUT_TARGET,
        rps[CHAIN] / rps[FUSED],
        note="" if args.rows == 100_000 else f"({args.rows} rows; the target is for 100,000)",
    )
    print(environment())


if __name__ == "__main__":
    main()
