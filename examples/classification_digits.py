"""Classification: a chain that ends in a class, with an imbalance that ``class_weight`` fixes
===========================================================================================

Dataset A is half of scikit-learn's bundled digits (network A learns the
digit); dataset B is the other half with its own ``store``, ``colour`` and
``age``. B's label is rare: "flagged" when the image shows a 7 or the row
comes from store_5 with an age over 60 (about 14% of the rows), "ok"
otherwise. A ``ChainClassifier`` at the end of the chain predicts it; the
same chain with ``class_weight="balanced"`` finds more of the flagged rows
(recall) at a small cost in precision, which balanced accuracy shows.
Early stopping draws its validation rows from the training rows.

Usage::

    python examples/classification_digits.py [--fast]
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.metrics import balanced_accuracy_score, recall_score, roc_auc_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from skchain import ChainClassifier, KerasTransformer, make_chain  # noqa: E402
from skchain.demo import PIXELS, build_network_a, load_datasets  # noqa: E402


def flagged_labels(df_b, seed=0):
    """B's rare label, from the digit each image shows (recovered from digits) and B's columns."""
    digits = load_digits()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(digits.target))
    digit = digits.target[order[len(order) // 2 :]]
    flagged = (digit == 7) | ((df_b["store"] == "store_5") & (df_b["age"] > 60)).to_numpy()
    return np.where(flagged, "flagged", "ok")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fast", action="store_true", help="few epochs (for tests)")
    args = parser.parse_args(argv)
    epochs = 3 if args.fast else 40

    (X_a, y_a), (df_b, _) = load_datasets()
    y_b = flagged_labels(df_b)
    print(f"dataset B: {len(df_b)} rows, {np.mean(y_b == 'flagged'):.1%} flagged")
    pre = KerasTransformer(
        build_network_a,
        output_layer="embedding",
        loss="sparse_categorical_crossentropy",
        epochs=epochs,
        batch_size=32,
        random_state=0,
    ).fit(X_a, y_a)
    df_train, df_test, y_train, y_test = train_test_split(
        df_b, y_b, test_size=0.3, random_state=0, stratify=y_b
    )
    for class_weight in (None, "balanced"):
        chain = make_chain(
            pre,
            representation_columns=PIXELS,
            categorical_columns=["store", "colour"],
            numeric_columns=["age"],
            classifier=ChainClassifier(
                hidden_units=(32,),
                epochs=epochs * 5,
                learning_rate=3e-3,
                random_state=0,
                class_weight=class_weight,
                early_stopping=not args.fast,
                n_iter_no_change=10,
            ),
        ).fit(df_train, y_train)
        predicted = chain.predict(df_test)
        proba = chain.predict_proba(df_test)[:, list(chain.classes_).index("flagged")]
        final = chain.named_steps["classifier"]
        print(
            f"class_weight={class_weight!s:9} recall of 'flagged' "
            f"{recall_score(y_test, predicted, pos_label='flagged'):.3f}, balanced accuracy "
            f"{balanced_accuracy_score(y_test, predicted):.3f}, ROC AUC "
            f"{roc_auc_score(y_test == 'flagged', proba):.3f}, epochs run {final.n_iter_}"
        )


if __name__ == "__main__":
    main()
