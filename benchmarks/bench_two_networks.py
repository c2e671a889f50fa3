"""Prediction speed of a chain with two networks A against one fused Keras graph of the same layers.

Usage::

    python benchmarks/bench_two_networks.py [--rows N] [--repeats R] [--quick]

``--rows`` defaults to 100,000 (20,000 with ``--quick``), ``--repeats`` to 5.

Setup (synthetic, seeded with ``np.random.default_rng(0)``): two networks A,
each trained for one epoch by ``skchain.KerasTransformer`` on its own
dataset A of 2,000 rows (network ``"left"`` on columns ``a0..a59``, network
``"right"`` on ``a40..a99``: 20 columns shared), each ``Input(60) ->
Dense(128, relu, "hidden") -> Dense(64, "embedding") -> Dense(1)``. Dataset
B has ``a0..a99`` and 32 numeric columns; the chain is
``make_chain(representations={"left": ..., "right": ...},
numeric_columns=n0..n31, representation_passthrough=False,
regressor=ChainRegressor(hidden_units=(64,), epochs=1))`` fitted on 2,000
rows.

Paths, both computing the same function of the same fitted weights:

chain.predict
    On a DataFrame (a new one each call: the chain caches each network A's
    output by the content of its rows, so repeating one frame would time a
    cache hit).
fused graph
    One Keras functional model inside a ``tf.function`` with a fixed input
    signature: both networks' input scaling (``Normalization``), their layers
    up to ``embedding``, the numeric block's scaling, the final network and
    the target's de-standardisation.
    It is fed float32 arrays extracted from the DataFrame beforehand (not
    timed; the time reading the frame takes is printed separately).

Printed: rows per second of each (best of ``--repeats`` after one warm-up),
their ratio and whether it meets the target (chain at least 0.8x the fused
graph's rows/s, issue 22), the one-row latency of each (median of 50 calls),
and the largest difference of the two paths' predictions relative to their
standard deviation. Only ratios measured in the same run are meaningful.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402
from _targets import report_target  # noqa: E402

from skchain import ChainRegressor, KerasTransformer, make_chain  # noqa: E402

THROUGHPUT_TARGET = "two networks A: chain.predict rows/s / fused graph's"
TARGETS = {THROUGHPUT_TARGET: (">=", 0.8, "x")}
FIT_ROWS = 2_000
A_COLS = [f"a{i}" for i in range(100)]
N_COLS = [f"n{i}" for i in range(32)]
COLUMNS = {"left": A_COLS[:60], "right": A_COLS[40:]}


def build_network_a(meta):
    inputs = keras.Input((meta["n_features_in_"],))
    x = keras.layers.Dense(128, activation="relu", name="hidden")(inputs)
    x = keras.layers.Dense(64, name="embedding")(x)
    return keras.Model(inputs, keras.layers.Dense(1, name="head")(x))


def frame(rng, n_rows):
    """B's columns: ``a0..a99`` standard normal, ``n0..n31`` with mean 3 and sd 2."""
    a = rng.normal(size=(n_rows, len(A_COLS))).astype(np.float32)
    n = rng.normal(3.0, 2.0, size=(n_rows, len(N_COLS))).astype(np.float32)
    return pd.concat([pd.DataFrame(a, columns=A_COLS), pd.DataFrame(n, columns=N_COLS)], axis=1)


def fit_chain(rng):
    networks = {}
    for name, columns in COLUMNS.items():
        X = frame(rng, FIT_ROWS)[columns]
        y = np.sin(X.to_numpy()[:, :10]).sum(axis=1)
        networks[name] = KerasTransformer(
            build_network_a, output_layer="embedding", loss="mse", epochs=1, random_state=0
        ).fit(X, y)
    df = frame(rng, FIT_ROWS)
    y = np.sin(df[A_COLS[:10]].to_numpy()).sum(axis=1) + 0.1 * df[N_COLS[:8]].to_numpy().sum(axis=1)
    chain = make_chain(
        representations={name: (net, COLUMNS[name]) for name, net in networks.items()},
        numeric_columns=N_COLS,
        representation_passthrough=False,
        regressor=ChainRegressor(hidden_units=(64,), branch_units=64, epochs=1, random_state=0),
    )
    return networks, chain.fit(df, y)


def fused_graph(networks, chain):
    """The reference: one Keras model of the same layers in a ``tf.function``."""
    final = chain.named_steps["regressor"].model_
    numeric = chain.named_steps["features"].named_transformers_["numeric"]
    inputs, blocks = [], {}
    for name, net in networks.items():
        x = keras.Input((len(COLUMNS[name]),), name=name)
        inputs.append(x)
        z = keras.layers.Normalization(mean=net.scaler_.mean_, variance=net.scaler_.scale_**2)(x)
        # Nested, as each network's layers keep their names (Keras wants unique names).
        upto = keras.Model(
            net.model_.inputs[0], net.model_.get_layer("embedding").output, name=f"network_a_{name}"
        )
        blocks[name] = upto(z)
    n_in = keras.Input((len(N_COLS),), name="numeric")
    inputs.append(n_in)
    blocks["numeric"] = keras.layers.Normalization(mean=numeric.mean_, variance=numeric.scale_**2)(
        n_in
    )
    order = [name for name, _, _ in chain.named_steps["regressor"].input_blocks_]
    model = keras.Model(inputs, final([blocks[name] for name in order]))
    signature = [tf.TensorSpec((None, x.shape[1]), tf.float32) for x in inputs]
    # The final network learns the standardised target; predictions are in its units.
    target = chain.named_steps["regressor"].target_scaler_
    mean, scale = (tf.constant(v, tf.float32) for v in (target.mean_, target.scale_))
    function = tf.function(
        lambda *xs: model(list(xs), training=False) * scale + mean,
        input_signature=signature,
        autograph=False,
    )

    def arrays(df):
        return [df[COLUMNS[name]].to_numpy(np.float32) for name in networks] + [
            df[N_COLS].to_numpy(np.float32)
        ]

    return (lambda xs: function(*xs).numpy()[:, 0]), arrays


def best_rate(call, make_input, n_rows, repeats):
    call(make_input())
    times = []
    for _ in range(repeats):
        x = make_input()
        began = time.perf_counter()
        call(x)
        times.append(time.perf_counter() - began)
    return n_rows / min(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    n_rows = args.rows or (20_000 if args.quick else 100_000)
    rng = np.random.default_rng(0)
    networks, chain = fit_chain(rng)
    fused, arrays = fused_graph(networks, chain)

    check = frame(np.random.default_rng(1), 2_000)  # rows like network A's (no drift warning)
    expected = chain.predict(check)
    gap = np.abs(fused(arrays(check)) - expected).max() / expected.std()
    frames = iter([frame(rng, n_rows) for _ in range(2 * args.repeats + 2)])
    chain_rate = best_rate(chain.predict, lambda: next(frames), n_rows, args.repeats)
    fused_rate = best_rate(fused, lambda: arrays(next(frames)), n_rows, args.repeats)
    df = frame(rng, n_rows)
    began = time.perf_counter()
    arrays(df)
    reading = time.perf_counter() - began

    rows = [check.iloc[[i]] for i in range(53)]
    latency = {}
    for label, call in (
        ("chain.predict", chain.predict),
        ("fused graph", lambda r: fused(arrays(r))),
    ):
        for row in rows[:3]:
            call(row)
        times = []
        for row in rows[3:]:
            began = time.perf_counter()
            call(row)
            times.append(time.perf_counter() - began)
        latency[label] = statistics.median(times)

    ratio = chain_rate / fused_rate
    print(
        f"two networks A, {n_rows} rows: chain.predict {chain_rate:,.0f} rows/s, fused graph"
        f" {fused_rate:,.0f} rows/s (fed arrays; reading them from the frame took"
        f" {reading * 1e3:.0f} ms)"
    )
    print(f"chain.predict {n_rows} rows: {ratio:.2f}x fused graph rows/s")
    print(
        f"chain.predict 1 row: {latency['chain.predict'] / latency['fused graph']:.1f}x fused graph"
        f" latency ({latency['chain.predict'] * 1e3:.2f} ms"
        f" vs {latency['fused graph'] * 1e3:.2f} ms,"
        " the fused graph fed one-row arrays read from the frame)"
    )
    print(f"largest difference from chain.predict / sd of predictions: {gap:.1e}")
    report_target(
        TARGETS,
        THROUGHPUT_TARGET,
        ratio,
        note="" if n_rows == 100_000 else f"({n_rows} rows; the target is for 100,000)",
    )


if __name__ == "__main__":
    main()
