"""Fine-tuning network A with the final loss, against keeping it frozen
====================================================================

Network A learns whether a digit is *even* on one half of scikit-learn's
digits; dataset B (300 images of the other half) wants the digit's *value*.
A frozen network A gives features tuned to the wrong question; fine-tuning
trains a copy of its layers together with the final network. The script
prints the held-out R² of both and what the fine-tuning did.

Usage::

    python examples/fine_tuning.py [--fast]
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from skchain import ChainRegressor, FineTune, KerasTransformer, make_chain  # noqa: E402

PIXELS = [f"px{i}" for i in range(64)]


def build_network_a(meta):
    seeds = iter(range(1, 10))
    init = lambda: keras.initializers.GlorotUniform(seed=next(seeds))  # noqa: E731
    inputs = keras.Input((meta["n_features_in_"],))
    x = keras.layers.Dense(64, activation="relu", name="hidden", kernel_initializer=init())(inputs)
    x = keras.layers.Dense(16, activation="relu", name="embedding", kernel_initializer=init())(x)
    return keras.Model(
        inputs,
        keras.layers.Dense(1, activation="sigmoid", name="even", kernel_initializer=init())(x),
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fast", action="store_true", help="few epochs (for tests)")
    args = parser.parse_args(argv)
    epochs = 3 if args.fast else 100

    digits = load_digits()
    order = np.random.default_rng(0).permutation(len(digits.target))
    a, b = order[: len(order) // 2], order[len(order) // 2 :]
    pre = KerasTransformer(
        build_network_a,
        output_layer="embedding",
        loss="binary_crossentropy",
        epochs=3 if args.fast else 30,
        random_state=0,
    ).fit(digits.data[a].astype(np.float32), (digits.target[a] % 2 == 0).astype(np.float32))
    df = pd.DataFrame(digits.data[b].astype(np.float32), columns=PIXELS)
    y = digits.target[b] + np.random.default_rng(1).normal(0, 0.3, len(b))
    train, test = slice(0, 300), slice(300, None)

    for label, fine_tune in [
        ("frozen", None),
        ("fine-tuned", FineTune(epochs=epochs, learning_rate=1e-3)),
    ]:
        chain = make_chain(
            pre,
            representation_columns=PIXELS,
            fine_tune=fine_tune,
            regressor=ChainRegressor(
                hidden_units=(32,),
                branch_units=32,
                learning_rate=3e-3,
                epochs=epochs,
                random_state=0,
            ),
        ).fit(df[train], y[train])
        print(f"{label:<11} held-out R2: {chain.score(df[test], y[test]):.3f}")
    tuned = chain.fine_tuned_
    print(
        f"fine-tuned layers {tuned['layers']} for {tuned['epochs']} epochs on {tuned['rows']} rows;"
        f" final joint loss {tuned['history']['loss'][-1]:.3f}"
    )


if __name__ == "__main__":
    main()
