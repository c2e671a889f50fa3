"""The main job: a chain on scikit-learn's bundled digits, end to end.

How the data are built (nothing is downloaded):

* ``load_digits`` gives 1,797 8x8 images (64 pixel columns, values 0-16) and
  their digit 0-9. A seeded permutation splits them in two disjoint halves.
* **Dataset A** (898 images): pixels -> digit label. Network A is a small
  classifier (64 -> Dense 64 -> Dense 32 ``"embedding"`` -> softmax 10)
  trained with sparse categorical cross-entropy.
* **Dataset B** (899 other images): a DataFrame with the 64 pixel columns
  ``px0``..``px63`` (same kind as A's inputs), a categorical ``store`` (6
  levels), a categorical ``colour`` (3 levels) and a numeric ``age``
  (18-80), drawn with a fixed seed. Its continuous target is::

      y = digit + store_effect[store] + colour_effect[colour]
          + 0.05 * (age - 50) + normal(0, 0.5)

  with ``store_effect = [-2, -1, 0, 1, 2, 3]`` and
  ``colour_effect = [0, 1.5, -1.5]``, so it depends on all columns, and on
  the pixels only through the digit they show.

The demo trains network A on A, fits the chain on 75% of B, searches the
final stage and network A's output layer with ``GridSearchCV``, saves the
best chain with joblib, reloads it, checks the reloaded predictions are
identical, and prints the held-out R² next to a baseline that sees B's raw
pixels (scaled) and columns without network A, with the shift and leakage
verdicts of B against A (both clean). ``--bad-data`` instead shows each
warning on purpose-made bad data: 50 of A's images put into B, and B's
images made brighter.

What the demo prints and draws (its search's progress, the verdicts as
sentences, the figures) is written by ``skchain._demo_report`` and
re-exported here.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._demo_report import SearchProgress as SearchProgress
from ._demo_report import leakage_sentence as leakage_sentence
from ._demo_report import shift_sentence as shift_sentence
from ._demo_report import write_figures as write_figures

if TYPE_CHECKING:
    import warnings

    import keras
    import numpy as np
    import pandas as pd


STORE_EFFECT = (-2.0, -1.0, 0.0, 1.0, 2.0, 3.0)
COLOUR_EFFECT = {"red": 0.0, "green": 1.5, "blue": -1.5}
PIXELS = [f"px{i}" for i in range(64)]


def load_datasets(
    seed: int = 0,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[pd.DataFrame, np.ndarray]]:
    """Datasets A and B as described in the module docstring.

    Returns
    -------
    (X_a, y_a), (df_b, y_b)
        ``X_a`` float32 (898, 64), ``y_a`` int digit labels; ``df_b`` a
        DataFrame with ``px0..px63``, ``store``, ``colour``, ``age``;
        ``y_b`` float64.
    """
    import numpy as np
    import pandas as pd
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(digits.target))
    half = len(order) // 2
    a_rows, b_rows = order[:half], order[half:]
    X_a = digits.data[a_rows].astype(np.float32)
    y_a = digits.target[a_rows]

    n_b = len(b_rows)
    df_b = pd.DataFrame(digits.data[b_rows].astype(np.float32), columns=PIXELS)
    store = rng.integers(0, len(STORE_EFFECT), size=n_b)
    colour = rng.choice(list(COLOUR_EFFECT), size=n_b)
    age = rng.uniform(18, 80, size=n_b).round()
    df_b["store"] = [f"store_{s}" for s in store]
    df_b["colour"] = colour
    df_b["age"] = age
    y_b = (
        digits.target[b_rows]
        + np.asarray(STORE_EFFECT)[store]
        + np.vectorize(COLOUR_EFFECT.get)(colour)
        + 0.05 * (age - 50)
        + rng.normal(0, 0.5, size=n_b)
    )
    return (X_a, y_a), (df_b, y_b)


def build_network_a(meta: Mapping[str, Any], hidden: int = 64, embedding: int = 32) -> keras.Model:
    """Network A: pixels -> Dense(hidden) -> Dense(embedding) -> 10-way softmax."""
    import keras

    inputs = keras.Input((meta["n_features_in_"],), name="pixels")
    x = keras.layers.Dense(hidden, activation="relu", name="hidden")(inputs)
    x = keras.layers.Dense(embedding, activation="relu", name="embedding")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="digit")(x)
    return keras.Model(inputs, outputs)


def run(
    output_dir: str | os.PathLike[str] = "skchain-demo",
    fast: bool = False,
    seed: int = 0,
    out: Callable[[str], object] = print,
) -> dict[str, Any]:
    """Run the demo; return a dict of the numbers it printed."""
    import joblib
    import numpy as np
    from sklearn.compose import ColumnTransformer
    from sklearn.model_selection import GridSearchCV, train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from . import ChainRegressor, KerasTransformer, make_chain

    start = time.perf_counter()
    epochs_a, epochs_b = (5, 8) if fast else (40, 80)
    (X_a, y_a), (df_b, y_b) = load_datasets(seed)
    train, test = train_test_split(np.arange(len(df_b)), test_size=0.25, random_state=seed)
    df_train, df_test, y_train, y_test = df_b.iloc[train], df_b.iloc[test], y_b[train], y_b[test]
    out(f"dataset A: {X_a.shape[0]} digit images x {X_a.shape[1]} pixels (target: digit label)")
    out(
        f"dataset B: {len(df_b)} other images + store, colour, age"
        f" ({len(df_train)} train / {len(df_test)} held out)"
    )

    out(f"training network A on A ({epochs_a} epochs) ...")
    began = time.perf_counter()
    pre = KerasTransformer(
        build_network_a,
        output_layer="embedding",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        epochs=epochs_a,
        batch_size=32,
        random_state=seed,
    ).fit(X_a, y_a)
    out(
        f"network A trained on A in {time.perf_counter() - began:.0f} s: final training"
        f" accuracy {pre.history_['accuracy'][-1]:.3f}"
    )

    regressor = ChainRegressor(
        hidden_units=(64,),
        branch_units=32,
        learning_rate=3e-3,
        epochs=epochs_b,
        batch_size=32,
        random_state=seed,
    )
    chain = make_chain(
        pre,
        representation_columns=PIXELS,
        categorical_columns=["store", "colour"],
        numeric_columns=["age"],
        categorical_encoding="onehot",
        regressor=regressor,
    )
    grid: dict[str, list[Any]] = {
        "regressor__hidden_units": [(32,), (64, 32)],
        "features__representation__output_layer": ["embedding", "hidden"],
    }
    folds = 2 if fast else 3
    progress = SearchProgress(
        len(grid["regressor__hidden_units"]) * len(grid["features__representation__output_layer"]),
        folds,
        out,
    )
    progress.announce()
    search = GridSearchCV(chain, grid, cv=folds, scoring=progress).fit(df_train, y_train)
    out("fitting the baseline and saving the best chain ...")
    best = search.best_estimator_
    r2_chain = best.score(df_test, y_test)

    baseline = Pipeline(
        [
            (
                "features",
                ColumnTransformer(
                    [
                        ("pixels", StandardScaler(), PIXELS),
                        (
                            "categorical",
                            OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                            ["store", "colour"],
                        ),
                        ("numeric", StandardScaler(), ["age"]),
                    ]
                ).set_output(transform="pandas"),
            ),
            (
                "regressor",
                ChainRegressor(
                    **{
                        **regressor.get_params(),
                        "hidden_units": search.best_params_["regressor__hidden_units"],
                    }
                ),
            ),
        ]
    ).fit(df_train, y_train)
    r2_baseline = baseline.score(df_test, y_test)

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / "chain.joblib"
    joblib.dump(best, path)
    reloaded = joblib.load(path)
    identical = bool(np.array_equal(reloaded.predict(df_test), best.predict(df_test)))
    frozen = best.named_steps["features"].named_transformers_["representation"]

    out(
        shift_sentence(
            pre.shift_report(df_b[PIXELS].to_numpy(), feature_names=PIXELS), pre.shift_alpha
        )
    )
    out(
        leakage_sentence(
            pre.leakage_report(df_b[PIXELS].to_numpy()).attrs["test"], pre.leakage_alpha
        )
    )
    out(f"best parameters: {search.best_params_} (cv R2 {search.best_score_:.3f})")
    out(f"network A forward passes in the search: {frozen.cache_info()}")
    out(f"R2 on held-out B, chain (frozen network A + B's columns): {r2_chain:.3f}")
    out(f"R2 on held-out B, baseline (raw pixels + B's columns):   {r2_baseline:.3f}")
    out(
        f"saved: {path} ({path.stat().st_size / 1024:.0f} KiB); "
        f"reloaded predictions identical: {identical}"
    )
    figures = write_figures(best, pre, df_b[PIXELS].to_numpy(np.float32), output_dir)
    if figures:
        out(f"figures: {', '.join(str(f) for f in figures)}")
    else:
        out("figures: skipped (matplotlib is not installed: pip install 'skchain[plot]')")
    elapsed = time.perf_counter() - start
    out(f"demo finished in {elapsed:.0f} s")
    return {
        "r2_chain": r2_chain,
        "r2_baseline": r2_baseline,
        "best_params": search.best_params_,
        "identical": identical,
        "path": str(path),
        "figures": [str(f) for f in figures],
        "seconds": elapsed,
    }


def show_warnings(
    seed: int = 0, out: Callable[[str], object] = print
) -> list[warnings.WarningMessage]:
    """Fit network A, then feed it purpose-made bad data to show each warning."""
    import warnings

    import numpy as np

    from . import ChainRegressor, KerasTransformer, make_chain
    from .diagnostics import DataLeakageWarning, DataShiftWarning

    (X_a, y_a), (df_b, y_b) = load_datasets(seed)
    pre = KerasTransformer(
        build_network_a, loss="sparse_categorical_crossentropy", epochs=3, random_state=seed
    ).fit(X_a, y_a)
    chain = make_chain(
        pre,
        representation_columns=PIXELS,
        categorical_columns=["store", "colour"],
        numeric_columns=["age"],
        regressor=ChainRegressor(epochs=2, random_state=seed),
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        leaky = df_b.copy()
        leaky.loc[leaky.index[:50], PIXELS] = X_a[:50]
        chain.fit(leaky, y_b)
        brighter = df_b.copy()
        brighter[PIXELS] = np.clip(brighter[PIXELS] * 2 + 4, 0, None)
        chain.predict(brighter)
    for warning in caught:
        if issubclass(warning.category, (DataShiftWarning, DataLeakageWarning)):
            out(f"{warning.category.__name__}: {warning.message}")
    out("shift report of the brighter images (worst 5):")
    out(
        pre.shift_report(brighter[PIXELS].to_numpy(), feature_names=PIXELS)
        .head()
        .to_string(index=False)
    )
    return caught


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m skchain demo [--fast] [--output DIR]``."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = argparse.ArgumentParser(prog="skchain", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run the chain on scikit-learn's digits")
    demo.add_argument("--output", default="skchain-demo", help="folder for chain.joblib")
    demo.add_argument("--fast", action="store_true", help="few epochs (a smoke test)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument(
        "--bad-data",
        action="store_true",
        help="show the shift and leakage warnings on purpose-made bad data",
    )
    args = parser.parse_args(argv)
    if args.bad_data:
        show_warnings(seed=args.seed)
        return 0
    result = run(output_dir=args.output, fast=args.fast, seed=args.seed)
    return 0 if result["identical"] else 1
