"""Frozen features: network A's learned representation as a block of the chain
===========================================================================

Dataset A is half of scikit-learn's bundled digits (the network learns the
digit); dataset B is the other half with three columns of its own (``store``,
``colour``, ``age``) and a continuous target. The chain feeds B's pixels
through network A, frozen, next to B's own columns, cross-validates it,
fits it, and draws the training curves.

Usage::

    python examples/frozen_features_digits.py [--fast] [--output DIR]
"""

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from sklearn.model_selection import KFold, cross_val_score, train_test_split  # noqa: E402

from skchain import ChainRegressor, KerasTransformer, make_chain  # noqa: E402
from skchain.demo import PIXELS, build_network_a, load_datasets  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fast", action="store_true", help="few epochs (for tests)")
    parser.add_argument("--output", default="skchain-examples", help="folder for the figure")
    args = parser.parse_args(argv)
    epochs = 3 if args.fast else 30

    (X_a, y_a), (df_b, y_b) = load_datasets()
    pre = KerasTransformer(
        build_network_a,
        output_layer="embedding",
        loss="sparse_categorical_crossentropy",
        epochs=epochs,
        batch_size=32,
        random_state=0,
    ).fit(X_a, y_a)
    chain = make_chain(
        pre,
        representation_columns=PIXELS,
        categorical_columns=["store", "colour"],
        numeric_columns=["age"],
        regressor=ChainRegressor(
            hidden_units=(32,), epochs=epochs, learning_rate=3e-3, random_state=0
        ),
    )
    df_train, df_test, y_train, y_test = train_test_split(df_b, y_b, test_size=0.25, random_state=0)
    scores = cross_val_score(chain, df_train, y_train, cv=KFold(3, shuffle=True, random_state=0))
    print(f"cross-validated R2 on B's training rows: {scores.mean():.3f} (+- {scores.std():.3f})")
    chain.fit(df_train, y_train)
    print(f"held-out R2: {chain.score(df_test, y_test):.3f}")
    print(f"encodings: {chain.categorical_encodings_}")

    try:
        import matplotlib
    except ImportError:
        print("figure skipped: pip install 'skchain[plot]'")
        return
    matplotlib.use("Agg")
    from skchain.plot import plot_history

    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    path = output / "frozen_features_history.png"
    plot_history(chain).savefig(path, dpi=100)
    print(f"figure: {path}")


if __name__ == "__main__":
    main()
