"""ChainClassifier against scikit-learn classifiers on B's raw columns.

Fixed epochs vs early stopping.

Usage::

    python benchmarks/bench_classifier.py [--seeds 3]

Data: the demo's datasets (``skchain.demo.load_datasets``: scikit-learn's
bundled digits split in two disjoint halves). Network A is trained on half A
to recognise the digit. Dataset B is the other half (pixels ``px0..px63``,
``store``, ``colour``, ``age``) with a three-class label that needs both the
image and B's own columns: ``(digit + store number) % 3``. 30% of B is held
out (stratified, seeded). Printed, per seed and as the mean over seeds:

* held-out accuracy and log-loss of the chain (frozen network A + B's columns
  -> ``ChainClassifier``), of ``LogisticRegression`` and of
  ``HistGradientBoostingClassifier`` on B's raw columns (standardised pixels
  and age, one-hot store and colour);
* for the chain, 300 fixed epochs vs ``early_stopping=True`` (same maximum,
  ``n_iter_no_change=15``): epochs run, fit seconds, held-out accuracy and
  log-loss.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score, log_loss  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

from skchain import ChainClassifier, KerasTransformer, make_chain  # noqa: E402
from skchain.demo import PIXELS, build_network_a, load_datasets  # noqa: E402

EPOCHS = 300


def datasets(seed):
    (X_a, y_a), (df_b, _) = load_datasets()
    digits = load_digits()
    order = np.random.default_rng(0).permutation(len(digits.target))  # load_datasets' split
    digit = digits.target[order[len(order) // 2 :]]
    store = df_b["store"].str.removeprefix("store_").astype(int).to_numpy()
    label = np.array(["zero", "one", "two"])[(digit + store) % 3]
    split = train_test_split(df_b, label, test_size=0.3, random_state=seed, stratify=label)
    return (X_a, y_a), split


def raw_columns():
    return ColumnTransformer(
        [
            ("numbers", StandardScaler(), PIXELS + ["age"]),
            ("levels", OneHotEncoder(handle_unknown="ignore"), ["store", "colour"]),
        ]
    )


def scores(model, df, y):
    proba = model.predict_proba(df)
    return accuracy_score(y, model.predict(df)), log_loss(y, proba, labels=model.classes_)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    rows = {}
    for seed in range(args.seeds):
        (X_a, y_a), (df_train, df_test, y_train, y_test) = datasets(seed)
        pre = KerasTransformer(
            build_network_a,
            output_layer="embedding",
            loss="sparse_categorical_crossentropy",
            epochs=30,
            batch_size=32,
            random_state=seed,
        ).fit(X_a, y_a)
        for name, early in (("chain, 300 epochs", False), ("chain, early stopping", True)):
            chain = make_chain(
                pre,
                representation_columns=PIXELS,
                categorical_columns=["store", "colour"],
                numeric_columns=["age"],
                classifier=ChainClassifier(
                    hidden_units=(64,),
                    epochs=EPOCHS,
                    learning_rate=1e-3,
                    early_stopping=early,
                    n_iter_no_change=15,
                    random_state=seed,
                ),
            )
            start = time.perf_counter()
            chain.fit(df_train, y_train)
            seconds = time.perf_counter() - start
            accuracy, loss = scores(chain, df_test, y_test)
            epochs = chain.named_steps["classifier"].n_iter_
            rows.setdefault(name, []).append((accuracy, loss, epochs, seconds))
        for name, model in (
            (
                "LogisticRegression (raw columns)",
                make_pipeline(raw_columns(), LogisticRegression(max_iter=2000)),
            ),
            (
                "HistGradientBoosting (raw columns)",
                make_pipeline(raw_columns(), HistGradientBoostingClassifier(random_state=seed)),
            ),
        ):
            start = time.perf_counter()
            model.fit(df_train, y_train)
            seconds = time.perf_counter() - start
            accuracy, loss = scores(model, df_test, y_test)
            rows.setdefault(name, []).append((accuracy, loss, None, seconds))
        print(
            f"seed {seed}: "
            + ", ".join(f"{name} acc {values[-1][0]:.3f}" for name, values in rows.items()),
            flush=True,
        )

    print(
        f"\nheld-out, mean over {args.seeds} seeds (dataset B: {len(df_train)} train /"
        f" {len(df_test)} test rows, 3 classes)"
    )
    print(f"{'model':38} {'accuracy':>9} {'log-loss':>9} {'epochs':>7} {'fit s':>7}")
    for name, values in rows.items():
        values = np.array([[v if v is not None else np.nan for v in row] for row in values])
        accuracy, loss, epochs, seconds = (
            np.nanmean(values, axis=0)
            if not np.isnan(values[:, 2]).all()
            else (*values[:, :2].mean(axis=0), np.nan, values[:, 3].mean())
        )
        epochs = "" if np.isnan(epochs) else f"{epochs:.0f}"
        print(f"{name:38} {accuracy:9.3f} {loss:9.3f} {epochs:>7} {seconds:7.1f}")
    fixed, early = np.array(rows["chain, 300 epochs"]), np.array(rows["chain, early stopping"])
    print(
        f"early stopping vs fixed epochs: epochs {early[:, 2].mean() / fixed[:, 2].mean():.2f}x,"
        f" fit time {early[:, 3].mean() / fixed[:, 3].mean():.2f}x, accuracy"
        f" {early[:, 0].mean() - fixed[:, 0].mean():+.3f}, log-loss"
        f" {early[:, 1].mean() - fixed[:, 1].mean():+.3f}"
    )


if __name__ == "__main__":
    main()
