"""Frozen features vs fine-tuning when network A learned a misaligned task.

Usage::

    python benchmarks/bench_finetune.py [--seeds 3] [--rows-b 300]

Data: scikit-learn's bundled digits, split by a seeded permutation into two
disjoint halves. Network A (64 pixels -> Dense 64 relu -> Dense 16 relu
``"embedding"`` -> sigmoid) is trained on the first half to tell whether the
digit is *even*: a task related to, but misaligned with, dataset B's. Dataset
B is ``--rows-b`` (default 300) images of the other half, with the digit's
*value* plus Gaussian noise (sd 0.3) as a continuous target; the rest of that
half is held out. For each seed it prints the held-out R² of:

* frozen features: ``make_chain`` with network A frozen;
* fine-tuned: the same chain with ``FineTune(epochs=80, learning_rate=1e-3)``;
* raw inputs without A: ridge regression on the standardised pixels;
* final network from scratch on raw inputs: the same ``ChainRegressor`` on
  the standardised pixels.

and the mean and standard deviation over seeds.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import RidgeCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skchain import ChainRegressor, FineTune, KerasTransformer, make_chain  # noqa: E402

PIXELS = [f"px{i}" for i in range(64)]


def build_network_a(meta):
    inputs = keras.Input((meta["n_features_in_"],))
    x = keras.layers.Dense(64, activation="relu", name="hidden")(inputs)
    x = keras.layers.Dense(16, activation="relu", name="embedding")(x)
    return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid", name="even")(x))


def regressor(seed):
    return ChainRegressor(
        hidden_units=(32,),
        branch_units=32,
        learning_rate=3e-3,
        epochs=100,
        batch_size=32,
        random_state=seed,
    )


def one_seed(seed, rows_b):
    digits = load_digits()
    order = np.random.default_rng(seed).permutation(len(digits.target))
    half = len(order) // 2
    a, b = order[:half], order[half:]
    X_a = digits.data[a].astype(np.float32)
    pre = KerasTransformer(
        build_network_a,
        output_layer="embedding",
        loss="binary_crossentropy",
        epochs=30,
        batch_size=32,
        random_state=seed,
    )
    pre.fit(X_a, (digits.target[a] % 2 == 0).astype(np.float32))
    noise = np.random.default_rng(seed + 100).normal(0, 0.3, size=len(b))
    df = pd.DataFrame(digits.data[b].astype(np.float32), columns=PIXELS)
    y = digits.target[b] + noise
    train, test = slice(0, rows_b), slice(rows_b, None)

    scores = {}
    frozen = make_chain(pre, representation_columns=PIXELS, regressor=regressor(seed))
    scores["frozen features"] = frozen.fit(df[train], y[train]).score(df[test], y[test])
    tuned = make_chain(
        pre,
        representation_columns=PIXELS,
        regressor=regressor(seed),
        fine_tune=FineTune(epochs=80, learning_rate=1e-3),
    )
    scores["fine-tuned"] = tuned.fit(df[train], y[train]).score(df[test], y[test])
    ridge = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-2, 3, 12)))
    scores["raw inputs without A (ridge)"] = ridge.fit(df[train], y[train]).score(df[test], y[test])
    scratch = make_pipeline(StandardScaler(), regressor(seed))
    scores["final network from scratch on raw inputs"] = scratch.fit(df[train], y[train]).score(
        df[test], y[test]
    )
    return scores


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--rows-b", type=int, default=300)
    args = parser.parse_args()
    runs = [one_seed(seed, args.rows_b) for seed in range(args.seeds)]
    print(
        f"held-out R2 on dataset B ({args.rows_b} training rows; "
        "network A learned 'is the digit even')"
    )
    print(
        f"{'method':45}"
        + "".join(f"{'seed ' + str(s):>10}" for s in range(args.seeds))
        + f"{'mean':>10}{'sd':>8}"
    )
    for method in runs[0]:
        values = np.array([run[method] for run in runs])
        print(
            f"{method:45}"
            + "".join(f"{v:>10.3f}" for v in values)
            + f"{values.mean():>10.3f}{values.std(ddof=1) if len(values) > 1 else 0:>8.3f}"
        )
    gain = np.array([run["fine-tuned"] - run["frozen features"] for run in runs])
    print(
        f"fine-tuned minus frozen: {gain.mean():+.3f} R2 on average, "
        f"better in {int((gain > 0).sum())} of {len(gain)} seeds"
    )


if __name__ == "__main__":
    main()
