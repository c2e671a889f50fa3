"""Wall time of one GridSearchCV over a chain: one process vs a local Dask cluster.

Usage::

    python benchmarks/bench_cluster.py [--rows N] [--workers W]

The design's networks on synthetic data (as ``bench_predict.py``), a search of
4 final-stage candidates x 3 folds with 5 epochs each, run once in this
process and once with ``joblib.parallel_backend("dask")`` on a
``distributed.LocalCluster`` of ``--workers`` (default 2) single-threaded
worker processes on loopback, each with ``TF_NUM_INTRAOP_THREADS=1`` so that
workers do not oversubscribe the cores. Prints both wall times and the ratio;
on a 2-core machine the cluster can at best halve the time of fitting.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import joblib  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from skchain import ChainRegressor, KerasTransformer, make_chain  # noqa: E402
from skchain.demo import build_network_a  # noqa: E402


def make_search(rows):
    rng = np.random.default_rng(0)
    X_a = rng.normal(size=(2000, 100)).astype(np.float32)
    pre = KerasTransformer(
        build_network_a, loss="sparse_categorical_crossentropy", epochs=1, random_state=0
    ).fit(X_a, (X_a[:, 0] > 0).astype(int))
    a_cols, n_cols = [f"a{i}" for i in range(100)], [f"n{i}" for i in range(32)]
    df = pd.DataFrame(rng.normal(size=(rows, 132)).astype(np.float32), columns=a_cols + n_cols)
    y = df[a_cols[:5]].sum(axis=1).to_numpy() + df["n0"].to_numpy()
    chain = make_chain(
        pre,
        representation_columns=a_cols,
        numeric_columns=n_cols,
        regressor=ChainRegressor(epochs=5, batch_size=128, random_state=0),
    )
    grid = {"regressor__hidden_units": [(32,), (64,)], "regressor__learning_rate": [1e-3, 3e-3]}
    return lambda: GridSearchCV(chain, grid, cv=3, n_jobs=-1), df, y


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=6000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    search, df, y = make_search(args.rows)

    start = time.perf_counter()
    single = GridSearchCV(**{**search().get_params(deep=False), "n_jobs": None}).fit(df, y)
    one_process = time.perf_counter() - start

    import distributed

    os.environ["TF_NUM_INTRAOP_THREADS"] = "1"
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    with (
        distributed.LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster),
    ):
        start = time.perf_counter()
        with joblib.parallel_backend("dask"):
            on_cluster = search().fit(df, y)
        cluster_time = time.perf_counter() - start

    print(
        f"one process: {one_process:.1f} s; "
        f"local Dask cluster ({args.workers} workers): {cluster_time:.1f} s"
    )
    print(f"cluster / one process: {cluster_time / one_process:.2f}x")
    print(f"best params: one process {single.best_params_}, cluster {on_cluster.best_params_}")
    print(f"{os.cpu_count()} cores")


if __name__ == "__main__":
    main()
