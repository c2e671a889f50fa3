"""High-cardinality categorical columns: one-hot, hashing and entity embeddings
============================================================================

Dataset B is scikit-learn's digits with a ``writer`` column of 600 levels
(each writer shifts the target by its own amount, drawn once, seeded) and a
``pen`` column of 4 levels. The same chain is fitted with each encoding of
``writer``; the script prints the held-out R² and the feature width each
one gives the final network, then the learned embedding of a few writers
and a 2-D picture of it.

Usage::

    python examples/high_cardinality_categoricals.py [--fast] [--output DIR]
"""

import argparse
import os
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from skchain import ChainRegressor, KerasTransformer, make_chain  # noqa: E402
from skchain.demo import PIXELS, build_network_a  # noqa: E402

N_WRITERS = 600


def load_data(seed=0):
    digits = load_digits()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(digits.target))
    a, b = order[:700], order[700:]
    df = pd.DataFrame(digits.data[b].astype(np.float32), columns=PIXELS)
    writer = rng.integers(0, N_WRITERS, len(b))
    effect = rng.normal(0, 2.0, N_WRITERS)
    df["writer"] = [f"w{w:03d}" for w in writer]
    df["pen"] = rng.choice(["ink", "pencil", "marker", None], len(b))
    y = digits.target[b] + effect[writer] + rng.normal(0, 0.3, len(b))
    return (digits.data[a].astype(np.float32), digits.target[a]), (df, y)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fast", action="store_true", help="few epochs (for tests)")
    parser.add_argument("--output", default="skchain-examples", help="folder for the figure")
    args = parser.parse_args(argv)
    epochs = 3 if args.fast else 60

    (X_a, y_a), (df, y) = load_data()
    pre = KerasTransformer(
        build_network_a,
        output_layer="embedding",
        loss="sparse_categorical_crossentropy",
        epochs=3 if args.fast else 20,
        random_state=0,
    ).fit(X_a, y_a)
    train, test = slice(0, 800), slice(800, None)
    chains = {}
    print(f"{'writer encoding':<16}{'held-out R2':>12}{'features':>10}")
    for encoding in ("onehot", "hash", "embed"):
        chain = make_chain(
            pre,
            representation_columns=PIXELS,
            categorical_columns=["writer", "pen"],
            categorical_encoding={"writer": encoding, "pen": "onehot"},
            hash_features=64,
            regressor=ChainRegressor(
                hidden_units=(32,), epochs=epochs, learning_rate=3e-3, random_state=0
            ),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # digits has a few duplicated images
            chain.fit(df[train], y[train])
        width = chain.named_steps["regressor"].n_features_in_
        print(f"{encoding:<16}{chain.score(df[test], y[test]):>12.3f}{width:>10}")
        chains[encoding] = chain

    embeddings = chains["embed"].category_embeddings()["writer"]
    print(
        f"learned writer embeddings: {embeddings.shape[0]} rows x {embeddings.shape[1]} dimensions"
    )
    print(embeddings.iloc[:4, :4].round(3).to_string())

    try:
        import matplotlib
    except ImportError:
        print("figure skipped: pip install 'skchain[plot]'")
        return
    matplotlib.use("Agg")
    from skchain.plot import plot_embeddings

    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    path = output / "writer_embeddings.png"
    plot_embeddings(chains["embed"], ["writer"], max_labels=25).savefig(path, dpi=100)
    print(f"figure: {path}")


if __name__ == "__main__":
    main()
