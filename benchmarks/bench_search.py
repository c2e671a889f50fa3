"""A grid search over the final stage of a chain with a frozen network A.

Usage::

    python benchmarks/bench_search.py [--rows N] [--repeats R] [--quick]

``--rows`` defaults to 10,000 (3,000 with ``--quick``), ``--repeats`` to 4.

Target: in ``GridSearchCV`` over final-stage parameters, network A's forward
pass runs over each distinct row at most once per fold split plus once for
the refit, network A is not copied per candidate, and the search takes at
most 1.1x the time of the same search on precomputed representations (issue 25;
``TARGETS`` below, printed as ``target:`` lines by ``_targets.report``).

Setup (synthetic, seeded, the same design as ``bench_predict.py``, whose data
and network A are imported from it): network A ``Input(100) -> Dense(128,
relu, "hidden") -> Dense(128, "embedding") -> Dense(1)``, trained for one
epoch on 2,000 rows by ``skchain.KerasTransformer``; dataset B a DataFrame
``a0..a99`` (A-like float32) and ``n0..n31`` (numeric) with a continuous
target.

The two searches, both ``GridSearchCV(..., cv=3)`` (``KFold``, no shuffling)
over ``hidden_units`` in ``[(32,), (64,)]`` and ``learning_rate`` in
``[1e-3, 3e-3]`` (4 candidates, 12 fits and the refit), every final network
trained for 3 epochs with batch size 256, scored by R² through a scorer
``est.score(X, y)`` (the same in both) that also checks, on every fitted
candidate of the chain, that its frozen step holds the very ``pre`` and
``pre.model_`` objects:

chain search
    ``GridSearchCV(chain, {"regressor__hidden_units": ...,
    "regressor__learning_rate": ...})`` on the raw DataFrame, where ``chain``
    is ``skchain.make_chain(pre, representation_columns=a0..a99,
    numeric_columns=n0..n31, representation_passthrough=False,
    regressor=ChainRegressor(hidden_units=(64,),
    branch_units=64, epochs=3, batch_size=256, random_state=0))``.
precomputed reference
    The same search over a plain ``skchain.ChainRegressor`` (keys without
    ``regressor__``) on a DataFrame computed once beforehand, outside the
    timing: ``representation__embedding0..127`` (``pre.transform`` of the
    A columns) and ``numeric__n0..31`` (the numeric columns standard-scaled
    over all rows). The column-name prefixes give it the same two input
    blocks, so it trains the same network with one branch per block; it pays
    neither network A nor any column dispatch.

Measurements: one warm-up fit of the chain and of the regressor first (the
first fit in a process pays TensorFlow's one-time start-up costs); then
``--repeats`` rounds, each timing both searches, in turn (which goes first
alternates from round to round), on a new dataset B of ``--rows`` rows,
keeping the best time of each, after a full garbage collection (as
``bench_fit.py``). Four rounds, not two: once every fit got its optimizer
built before Keras' fit (``skchain/_optimizer_build.py``), a 3,000-row search
took ~12 s instead of ~18 s, and one search's time varied from 10.4 s to
15.2 s from round to round for the same work on the 2-core machine (the first
training step, Keras tracing the train function, varies most): the best of 2
measured 1.29x, 0.84x and 1.02x in three runs of the same code. Every round needs new rows
because the frozen step's cache of network A's outputs (keyed by the content
of the rows, shared by all clones) would otherwise serve the whole second
search.

Counts: the frozen step's ``cache_info()["rows_computed"]`` (rows passed
through network A) before and after each chain search, against the bound
``3 * N`` (each of the 3 splits' train and test rows, N in all) ``+ N`` (the
refit on all rows); the features step's fits in a chain search (printed: 4
of the 13 chain fits, one per split and the refit; the other candidates reuse
the fitted step kept by its parameters and rows, ``skchain._features_cache``);
and the live Keras ``Dense`` layers named ``"hidden"``
(network A's first layer, which no other network here has) after the
searches, which is 1 unless network A was copied.

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
import pandas as pd  # noqa: E402
from _targets import report_target  # noqa: E402
from _timing import round_ratios_line  # noqa: E402
from bench_predict import (  # noqa: E402
    A_COLS,
    N_COLS,
    environment,
    fit_network_a,
    make_dataset_b,
)
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from skchain import ChainRegressor, make_chain  # noqa: E402
from skchain._features_cache import features_cache  # noqa: E402

CV = 3
EPOCHS = 3
BATCH_SIZE = 256
SEARCH_TARGET = "GridSearchCV time / precomputed search's"
ROWS_TARGET = "network A forward rows / (cv + 1) x rows"
COPIES_TARGET = "live copies of network A"
TARGETS = {
    SEARCH_TARGET: ("<=", 1.1, "x"),
    ROWS_TARGET: ("<=", 1.0, "x"),
    COPIES_TARGET: ("<=", 1, ""),
}
GRID = {"hidden_units": [(32,), (64,)], "learning_rate": [1e-3, 3e-3]}
CHAIN, REFERENCE = "chain search", "precomputed reference"


# ------------------------------------------------------------------ setup
def make_regressor():
    """The final stage searched in both searches."""
    return ChainRegressor(
        hidden_units=(64,), branch_units=64, epochs=EPOCHS, batch_size=BATCH_SIZE, random_state=0
    )


def frozen_step(chain):
    """The chain's ``FrozenTransformer`` (its cache is shared by every clone)."""
    return chain.named_steps["features"].transformers[0][1]


def precomputed(pre, df):
    """The reference's input: network A's output and the scaled numeric columns."""
    Z = pre.transform(df[A_COLS].to_numpy(np.float32))
    N = df[N_COLS].to_numpy(np.float32)
    N = (N - N.mean(axis=0, dtype=np.float64)) / N.std(axis=0, dtype=np.float64)
    return pd.concat(
        [
            pd.DataFrame(Z, columns=[f"representation__embedding{i}" for i in range(Z.shape[1])]),
            pd.DataFrame(N.astype(np.float32), columns=[f"numeric__{c}" for c in N_COLS]),
        ],
        axis=1,
    )


# ------------------------------------------------------------------ checks
class SharedNetworkScorer:
    """R² (``est.score``); for chains, also checks the frozen network A is ``pre``'s.

    Called by ``GridSearchCV`` with every fitted candidate, so it sees each
    fit's frozen step without patching anything.
    """

    def __init__(self, pre=None):
        self.pre = pre
        self.checked = 0
        self.copies = 0

    def __call__(self, estimator, X, y):
        if self.pre is not None:
            frozen = estimator.named_steps["features"].named_transformers_["representation"]
            self.checked += 1
            if frozen.estimator is not self.pre or frozen.estimator.model_ is not self.pre.model_:
                self.copies += 1
        return estimator.score(X, y)


def check_same_network(chain_regressor, reference_regressor):
    """Fail unless both fitted final networks have the same blocks and weight shapes: the
    two searches must train the same network for their times to be compared."""

    def shapes(regressor):
        blocks = [(name, stop - start) for name, start, stop in regressor.input_blocks_]
        return blocks, [tuple(w.shape) for w in regressor.model_.trainable_weights]

    if shapes(chain_regressor) != shapes(reference_regressor):
        raise AssertionError(
            f"the searches train different networks: chain {shapes(chain_regressor)},"
            f" reference {shapes(reference_regressor)}"
        )


def network_a_layers():
    """Live Keras layers named ``"hidden"``: one per copy of network A."""
    gc.collect()
    return sum(
        1
        for obj in gc.get_objects()
        if isinstance(obj, keras.layers.Layer) and obj.name == "hidden"
    )


# ----------------------------------------------------------------- timing
def run_search(estimator, param_grid, X, y, scorer):
    """Seconds of one ``GridSearchCV(...).fit(X, y)`` and the fitted search."""
    search = GridSearchCV(estimator, param_grid, cv=CV, scoring=scorer)
    gc.collect()  # neither search pays for the other's garbage
    start = time.perf_counter()
    search.fit(X, y)
    return time.perf_counter() - start, search


def parse_args(argv=None):
    """Command-line options; ``--quick`` means 3,000 rows unless ``--rows`` is given."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=None, help="rows of dataset B (10,000)")
    parser.add_argument("--repeats", type=int, default=4, help="timed searches per path")
    parser.add_argument("--quick", action="store_true", help="3,000 rows unless --rows is given")
    args = parser.parse_args(argv)
    if args.rows is None:
        args.rows = 3_000 if args.quick else 10_000
    return args


def main(argv=None):
    args = parse_args(argv)
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    pre = fit_network_a(rng)
    chain = make_chain(
        pre,
        representation_columns=A_COLS,
        numeric_columns=N_COLS,
        # The reference's two blocks: without it the chain would also pass A's 100 raw
        # columns to the final network (a third branch) and train a larger network.
        representation_passthrough=False,
        regressor=make_regressor(),
    )
    frozen = frozen_step(chain)
    chain_grid = {f"regressor__{key}": values for key, values in GRID.items()}

    warm_df, warm_y = make_dataset_b(rng, 1_000)  # warm-up, on rows that are never timed
    warm_chain = clone(chain).fit(warm_df, warm_y)
    warm_reference = clone(make_regressor()).fit(precomputed(pre, warm_df), warm_y)
    check_same_network(warm_chain.named_steps["regressor"], warm_reference)

    best = {CHAIN: float("inf"), REFERENCE: float("inf")}
    times: dict[str, list[float]] = {CHAIN: [], REFERENCE: []}
    scorer = SharedNetworkScorer(pre)
    rows_computed, scores, features_fits = [], {}, []

    def chain_search(df, y):
        before = frozen.cache_info()["rows_computed"]
        fits_before = features_cache(chain).info()
        seconds, search = run_search(chain, chain_grid, df, y, scorer)
        rows_computed.append(frozen.cache_info()["rows_computed"] - before)
        fits = {k: v - fits_before[k] for k, v in features_cache(chain).info().items()}
        features_fits.append((fits["misses"], fits["misses"] + fits["hits"]))
        refit_frozen = search.best_estimator_.named_steps["features"].named_transformers_[
            "representation"
        ]
        assert refit_frozen.estimator is pre and refit_frozen.estimator.model_ is pre.model_
        return seconds, search

    def reference_search(reference_X, y):
        return run_search(make_regressor(), GRID, reference_X, y, SharedNetworkScorer())

    for round_ in range(args.repeats):
        df, y = make_dataset_b(rng, args.rows)
        reference_X = precomputed(pre, df)  # not timed: the reference's premise
        turns = [(CHAIN, chain_search, df), (REFERENCE, reference_search, reference_X)]
        # In turn, the first search alternating: neither always runs after the other.
        for name, search_fn, X in turns[:: -1 if round_ % 2 else 1]:
            seconds, search = search_fn(X, y)
            best[name] = min(best[name], seconds)
            times[name].append(seconds)
            scores[name] = search.best_score_

    n_candidates = len(GRID["hidden_units"]) * len(GRID["learning_rate"])
    bound = CV * args.rows + args.rows
    print(
        f"GridSearchCV, {n_candidates} candidates x cv={CV} + refit, {args.rows} rows,"
        f" {EPOCHS} epochs, batch {BATCH_SIZE} (best of {args.repeats}, new rows each time)"
    )
    print(f"{'search':<22} {'time':>10} {'best R2':>8}")
    for name in best:
        print(f"{name:<22} {best[name]:>8.3f} s {scores[name]:>8.3f}")
    print(
        f"network A copies: {network_a_layers()} live network A (1 = shared);"
        f" {scorer.checked - scorer.copies} of {scorer.checked} fitted candidates"
        f" (in {args.repeats} search(es)) and every refit use pre.model_ itself"
    )
    print(
        f"network A forward rows: {max(rows_computed)} (bound: {bound}"
        f" = {CV} x {args.rows} per split + {args.rows} refit)"
    )
    fitted, fits = features_fits[-1]
    print(
        f"features step: fitted {fitted} times for {fits} chain fits per search"
        f" (once per split and for the refit; the candidates reuse it)"
    )
    ratio = best[CHAIN] / best[REFERENCE]
    print(f"search: {ratio:.2f}x the same search on precomputed representations")
    print(round_ratios_line(times[CHAIN], times[REFERENCE]))
    for name in times:
        print(f"{name} per round (s): " + ", ".join(f"{t:.2f}" for t in times[name]))
    report_target(TARGETS, ROWS_TARGET, max(rows_computed) / bound)
    report_target(TARGETS, COPIES_TARGET, network_a_layers())
    report_target(TARGETS, SEARCH_TARGET, ratio)
    print(environment())


if __name__ == "__main__":
    main()
