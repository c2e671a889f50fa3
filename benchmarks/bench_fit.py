"""Training time of ``chain.fit`` against a hand-written Keras script doing the same work.

Usage::

    python benchmarks/bench_fit.py [--rows N] [--epochs E] [--repeats R] [--quick]

``--rows`` defaults to 20,000 (5,000 with ``--quick``), ``--epochs`` to 5,
``--repeats`` to 9; the batch size is 256.

Target (issue 25): ``chain.fit`` takes at most 1.05x the time of the hand-written script
(``TARGETS`` below; printed as a ``target:`` line by ``_targets.report``).

Setup (synthetic, seeded, the same design as ``bench_predict.py``, whose data
and network A are imported from it):

* network A: ``Input(100) -> Dense(128, relu, "hidden") ->
  Dense(128, "embedding") -> Dense(1)``, trained for one epoch on 2,000 rows
  by ``skchain.KerasTransformer``;
* dataset B: a DataFrame ``a0..a99`` (A-like float32) and ``n0..n31``
  (numeric float32) with a continuous target.

The paths, each starting from the DataFrame and doing the same work:

chain.fit
    ``skchain.make_chain(pre, representation_columns=a0..a99,
    numeric_columns=n0..n31, representation_passthrough=False,
    regressor=ChainRegressor(hidden_units=(64,),
    branch_units=64, epochs=E, batch_size=256, random_state=0))``, fitted on
    a fresh ``sklearn.base.clone`` each time, so the final network is built
    and trained from scratch (network A, frozen, is shared and never
    retrained).
hand-written Keras
    What a user writes without scikit-learn: take the two column groups out
    of the frame as float32, scale A's columns with network A's fitted
    scaler (``pre.scaler_`` mean and scale, in numpy) and run
    ``keras.Model(A's input, "embedding")`` on them in one direct call;
    standard-scale the numeric columns in numpy; build the same final network
    (``Input(128) -> Dense(64, relu)`` and ``Input(32) -> Dense(64, relu)``,
    ``Concatenate``, ``Dense(64, relu)``, ``Dropout(0.2)``, ``Dense(1)``: the
    chain's default network, its dropout included; Adam with learning
    rate 1e-3, MSE) after ``keras.utils.set_random_seed(0)`` (only seeded, as
    most scripts are; the chain's seeded fit also makes TensorFlow's ops
    deterministic while it trains, which it pays for), and
    ``model.fit([representation, numeric], y, epochs=E, batch_size=256,
    verbose=0, shuffle=True)``.

hand-written Keras, optimizer built first (printed beside, no target)
    The same script with one line more before ``model.fit``:
    ``model.optimizer.build(model.trainable_variables)``, as skchain does
    before every fit (``skchain._optimizer_build``): Keras' TensorFlow trainer
    otherwise creates the optimizer's variables while it traces the first
    training step, the larger part of that step on this network. It shows how
    much of the chain's lead is that one line, which a script can write too.

Both paths train the same number of steps on the same rows; they do not
visit them in the same order after the first epoch: the script's Keras makes
a new iterator of its pipeline every epoch (two, in fact: one it throws away),
and under a global seed each starts the shuffle over, so every epoch repeats
the first one's order; the chain feeds Keras one dataset for the whole fit,
reshuffled every epoch (``skchain._input_pipeline``).

Measurements: one warm-up fit of each path first (the first fit in a process
pays TensorFlow's one-time start-up costs), then ``--repeats`` rounds, each
timing one fit of each path, in turn (the rounds' orders are the rows of a
Williams design, ``_timing.balanced_orders``, taken in turn: every path
follows each other one, and takes each place, about equally often), on a new
dataset B of ``--rows`` rows;
the best time of each path is kept (9 rounds: on the 2-core machine one
round's chain/script ratio ranged from 0.90 to 1.34, the best of 5 from 0.92x
to 1.17x from one run to the next, before the chain built its optimizer ahead
of Keras' fit; 0.44x to 0.91x after; the median of the rounds' ratios is
printed beside it, as a second look). Before each timed fit, ``gc.collect()``:
Python's collector otherwise runs a full collection now and then, 0.45-0.64 s
on this benchmark's heap (of fits of ~2.3 s), charged to whichever path
happens to be running (measured with ``gc.callbacks``); ``timeit`` switches the
collector off for the same reason. Every timed fit gets rows it has not seen,
because the chain's frozen step caches network A's output by the content of
its input rows, and the cache is shared between clones: refitting on the
same rows would skip network A's forward pass, which the script pays. Both
paths fit on the same frames. The last training loss of each path is printed
as a check that both trained: the chain's is in standardised target units (it
scales the target with statistics of the training rows), the script's in the
target's own, so the two are not comparable as numbers.

Absolute numbers depend on the machine and on whatever else runs on it; only
the ratio measured in the same run is meaningful.
"""

import argparse
import gc
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402
import numpy as np  # noqa: E402
from _targets import report_target  # noqa: E402
from _timing import balanced_orders, round_ratios_line  # noqa: E402
from bench_predict import (  # noqa: E402
    A_COLS,
    N_COLS,
    environment,
    fit_network_a,
    make_dataset_b,
)
from sklearn.base import clone  # noqa: E402

from skchain import ChainRegressor, make_chain  # noqa: E402

BATCH_SIZE = 256
DROPOUT = 0.2  # ChainRegressor's default, which the chain below keeps
CHAIN, SCRIPT = "chain.fit", "hand-written Keras"
SCRIPT_BUILT = "Keras, built optimizer"  # the script, its optimizer built before fit
FIT_TARGET = "chain.fit time / hand-written Keras'"
TARGETS = {FIT_TARGET: ("<=", 1.05, "x")}


# ------------------------------------------------------------------ setup
def make_unfitted_chain(pre, epochs):
    """The chain whose ``fit`` is timed (cloned before every fit)."""
    return make_chain(
        pre,
        representation_columns=A_COLS,
        numeric_columns=N_COLS,
        representation_passthrough=False,  # the blocks the hand-written script builds
        regressor=ChainRegressor(
            hidden_units=(64,),
            branch_units=64,
            epochs=epochs,
            batch_size=BATCH_SIZE,
            random_state=0,
        ),
    )


# ------------------------------------------------------------------ paths
def chain_fit(chain, df, y):
    """Fit a fresh clone of ``chain``; return its last training loss."""
    fitted = clone(chain).fit(df, y)
    return fitted.named_steps["regressor"].history_["loss"][-1]


def build_final_network(width_representation, width_numeric):
    """The chain's default final network, written out by hand."""
    rep_in = keras.Input((width_representation,), name="representation")
    num_in = keras.Input((width_numeric,), name="numeric")
    rep = keras.layers.Dense(64, activation="relu")(rep_in)
    num = keras.layers.Dense(64, activation="relu")(num_in)
    x = keras.layers.Concatenate()([rep, num])
    x = keras.layers.Dense(64, activation="relu")(x)
    x = keras.layers.Dropout(DROPOUT)(x)  # ChainRegressor's default dropout
    model = keras.Model([rep_in, num_in], keras.layers.Dense(1)(x))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="mse")
    return model


def script_fit(pre, df, y, epochs, build_optimizer=False):
    """The hand-written script: scale, run network A, fit the final network.

    ``build_optimizer``: build the optimizer before ``model.fit`` (one line more).
    """
    a_mean = pre.scaler_.mean_.astype(np.float32)
    a_scale = pre.scaler_.scale_.astype(np.float32)
    model_a = pre.model_
    sub_model = keras.Model(model_a.inputs[0], model_a.get_layer("embedding").output)
    A = df[A_COLS].to_numpy(np.float32)
    representation = np.asarray(sub_model((A - a_mean) / a_scale, training=False))
    N = df[N_COLS].to_numpy(np.float32)
    mean, std = N.mean(axis=0, dtype=np.float64), N.std(axis=0, dtype=np.float64)
    numeric = ((N - mean.astype(np.float32)) / std.astype(np.float32)).astype(np.float32)
    keras.utils.set_random_seed(0)
    model = build_final_network(representation.shape[1], numeric.shape[1])
    if build_optimizer:
        model.optimizer.build(model.trainable_variables)
    history = model.fit(
        [representation, numeric],
        y,
        epochs=epochs,
        batch_size=BATCH_SIZE,
        verbose=0,
        shuffle=True,
    )
    return history.history["loss"][-1]


# ----------------------------------------------------------------- timing
def timed(fn, *args):
    """Seconds of ``fn(*args)`` and its result, after a full garbage collection."""
    gc.collect()
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def parse_args(argv=None):
    """Command-line options; ``--quick`` means 5,000 rows unless ``--rows`` is given."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=None, help="rows of dataset B (20,000)")
    parser.add_argument("--epochs", type=int, default=5, help="epochs of the final network")
    parser.add_argument("--repeats", type=int, default=9, help="timed fits per path (>= 1)")
    parser.add_argument("--quick", action="store_true", help="5,000 rows unless --rows is given")
    args = parser.parse_args(argv)
    for name in ("rows", "epochs", "repeats"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name} {value}: expected a positive int")
    if args.rows is None:
        args.rows = 5_000 if args.quick else 20_000
    return args


def main(argv=None):
    args = parse_args(argv)
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    pre = fit_network_a(rng)
    chain = make_unfitted_chain(pre, args.epochs)
    paths = {
        CHAIN: lambda df, y: chain_fit(chain, df, y),
        SCRIPT: lambda df, y: script_fit(pre, df, y, args.epochs),
        SCRIPT_BUILT: lambda df, y: script_fit(pre, df, y, args.epochs, build_optimizer=True),
    }
    datasets = [make_dataset_b(rng, args.rows) for _ in range(args.repeats + 1)]

    for fn in paths.values():  # warm-up, on rows that are never timed
        fn(*datasets[0])
    times: dict[str, list[float]] = {name: [] for name in paths}
    losses = {}
    for round_, (df, y) in enumerate(datasets[1:]):
        # In turn, in the order of a row of a Williams design: no path always follows another.
        orders = balanced_orders(len(paths))
        for index in orders[round_ % len(orders)]:
            name, fn = list(paths.items())[index]
            seconds, losses[name] = timed(fn, df, y)
            times[name].append(seconds)
    best = {name: min(seconds) for name, seconds in times.items()}

    print(
        f"fit on {args.rows} rows, {args.epochs} epochs, batch {BATCH_SIZE}"
        f" (best of {args.repeats}, new rows each time)"
    )
    print(f"{'path':<24} {'time':>10} {'last loss':>10}")
    for name in paths:
        print(f"{name:<24} {best[name]:>8.3f} s {losses[name]:>10.4f}")
    ratio = best[CHAIN] / best[SCRIPT]
    print(f"{CHAIN}: {ratio:.2f}x {SCRIPT}")
    print(
        f"{CHAIN}: {best[CHAIN] / best[SCRIPT_BUILT]:.2f}x {SCRIPT} with its optimizer built"
        f" before fit (no target; that one line: {best[SCRIPT_BUILT] / best[SCRIPT]:.2f}x"
        f" the script's time)"
    )
    print(round_ratios_line(times[CHAIN], times[SCRIPT]))
    if args.repeats < 9:
        print(f"(best of {args.repeats}: the target is judged on the best of 9 rounds)")
    report_target(TARGETS, FIT_TARGET, ratio)
    print(environment())


if __name__ == "__main__":
    main()
