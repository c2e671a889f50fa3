"""Two networks A, trained on two different datasets, in one chain
===============================================================

The data are the demo's (``skchain.demo.load_datasets``: scikit-learn's
bundled digits, nothing downloaded). Dataset A's 898 images are split in two
disjoint datasets, as if two teams had each trained a network on their own
sensor:

* network ``"top"`` sees the top five rows of pixels (``px0``..``px39``) of
  the first 449 images and learns their digit;
* network ``"bottom"`` sees the bottom five rows (``px24``..``px63``, two
  rows shared with ``"top"``) of the other 449 images and learns their digit.

Dataset B (899 other images, with ``store``, ``colour`` and ``age``; its
target is the digit plus effects of the other columns) has all 64 pixels.
Neither half of an image shows every digit clearly; together they do. The
script fits three chains on 75% of B -- one per network A, and one with both
(``make_chain(representations={"top": ..., "bottom": ...})``) -- and prints
their held-out R² next to HistGradientBoosting on B's raw columns, then
fine-tunes only the ``"bottom"`` network inside the two-network chain
(``FineTune(networks=["bottom"])``).

Usage::

    python examples/two_networks.py [--fast] [--seed N]
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pandas as pd  # noqa: E402
from sklearn.ensemble import HistGradientBoostingRegressor  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from skchain import ChainRegressor, FineTune, KerasTransformer, make_chain  # noqa: E402
from skchain.demo import PIXELS, build_network_a, load_datasets  # noqa: E402

TOP, BOTTOM = PIXELS[:40], PIXELS[24:]


def train_network_a(X, y, columns, epochs, seed):
    """One network A on its own dataset: its pixel columns -> the digit."""
    return KerasTransformer(
        build_network_a,
        output_layer="embedding",
        loss="sparse_categorical_crossentropy",
        epochs=epochs,
        batch_size=32,
        random_state=seed,
    ).fit(pd.DataFrame(X, columns=PIXELS)[columns], y)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fast", action="store_true", help="few epochs (for tests)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    epochs_a, epochs_b = (5, 8) if args.fast else (40, 80)

    (X_a, y_a), (df_b, y_b) = load_datasets(args.seed)
    half = len(X_a) // 2
    networks = {
        "top": train_network_a(X_a[:half], y_a[:half], TOP, epochs_a, args.seed),
        "bottom": train_network_a(X_a[half:], y_a[half:], BOTTOM, epochs_a, args.seed),
    }
    print(f"network 'top': {half} images of dataset A, {len(TOP)} pixels (rows 0-4)")
    print(f"network 'bottom': {len(X_a) - half} other images, {len(BOTTOM)} pixels (rows 3-7)")
    df_train, df_test, y_train, y_test = train_test_split(
        df_b, y_b, test_size=0.25, random_state=args.seed
    )

    def chain(representations, fine_tune=None):
        return make_chain(
            representations=representations,
            categorical_columns=["store", "colour"],
            numeric_columns=["age"],
            fine_tune=fine_tune,
            regressor=ChainRegressor(epochs=epochs_b, random_state=args.seed),
        )

    candidates = {
        "'top' only": chain({"top": networks["top"]}),
        "'bottom' only": chain({"bottom": networks["bottom"]}),
        "'top' + 'bottom'": chain(networks),
        "'top' + 'bottom', 'bottom' fine-tuned": chain(
            networks,
            FineTune(epochs=3 if args.fast else 10, learning_rate=1e-4, networks=["bottom"]),
        ),
    }
    print(f"held-out R² on dataset B ({len(df_test)} rows):")
    for name, candidate in candidates.items():
        candidate.fit(df_train, y_train)
        print(f"  chain, network A {name:38} {candidate.score(df_test, y_test):.3f}")
    codes = df_b[["store", "colour"]].apply(lambda c: c.astype("category").cat.codes)
    raw = pd.concat([df_b[PIXELS + ["age"]], codes], axis=1)
    hgb = HistGradientBoostingRegressor(
        random_state=args.seed,
        categorical_features=[raw.columns.get_loc("store"), raw.columns.get_loc("colour")],
    )
    hgb.fit(raw.loc[df_train.index], y_train)
    hgb_score = hgb.score(raw.loc[df_test.index], y_test)
    print(f"  HistGradientBoosting on B's raw columns{'':18} {hgb_score:.3f}")
    tuned = candidates["'top' + 'bottom', 'bottom' fine-tuned"].fine_tuned_
    print(
        f"fine-tuned: {sorted(tuned['networks'])} ({tuned['epochs']} epochs, layers"
        f" {tuned['networks']['bottom']['layers']})"
    )


if __name__ == "__main__":
    main()
