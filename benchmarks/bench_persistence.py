"""File size and load time of a fitted chain: joblib (pickle) vs skchain.save (no pickle).

Usage::

    python benchmarks/bench_persistence.py

The demo's chain (digits: network A 64 -> 64 -> 32 -> 10 trained on dataset A,
the chain fitted on dataset B with one-hot and numeric blocks; few epochs,
since training quality does not matter here). Each format is written once
and loaded 5 times in this process (best time reported), and once in a fresh
process, where the first load also pays the imports (reported separately,
with the time to the first prediction of one row).

Target: the first prediction of one row after a load in a fresh process ("to 1st
predict" minus "load") takes at most 300 ms, for both formats (``TARGETS`` below,
printed as ``target:`` lines by ``_targets.report``).
"""

import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import joblib  # noqa: E402
import numpy as np  # noqa: E402
from _targets import report_target  # noqa: E402

import skchain  # noqa: E402
from skchain.demo import PIXELS, build_network_a, load_datasets  # noqa: E402

FIRST_PREDICT_TARGETS = {
    "joblib": "first 1-row prediction after joblib.load, fresh process",
    "skchain.save": "first 1-row prediction after skchain.load, fresh process",
}
TARGETS = {
    FIRST_PREDICT_TARGETS["joblib"]: ("<=", 300, "ms"),
    FIRST_PREDICT_TARGETS["skchain.save"]: ("<=", 300, "ms"),
}


def fitted_chain():
    (X_a, y_a), (df_b, y_b) = load_datasets()
    pre = skchain.KerasTransformer(
        build_network_a, loss="sparse_categorical_crossentropy", epochs=2, random_state=0
    ).fit(X_a, y_a)
    chain = skchain.make_chain(
        pre,
        representation_columns=PIXELS,
        categorical_columns=["store", "colour"],
        numeric_columns=["age"],
        regressor=skchain.ChainRegressor(epochs=2, random_state=0),
    )
    return chain.fit(df_b, y_b), df_b


def best_of(function, repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def fresh_process(load_code, frame):
    script = textwrap.dedent(f"""
        import time
        start = time.perf_counter()
        import pandas as pd, joblib, skchain
        chain = {load_code}
        loaded = time.perf_counter()
        chain.predict(pd.read_pickle({str(frame)!r}).iloc[[0]])
        print(loaded - start, time.perf_counter() - start)
    """)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    return [float(v) for v in out.stdout.split()[-2:]]


def main():
    chain, df = fitted_chain()
    trusted = ["skchain.demo.build_network_a"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        frame = tmp / "df.pkl"
        df.to_pickle(frame)
        pickle_path, archive_path = tmp / "chain.joblib", tmp / "chain.skchain"
        joblib.dump(chain, pickle_path)
        skchain.save(chain, archive_path)
        expected = chain.predict(df)
        assert np.array_equal(joblib.load(pickle_path).predict(df), expected)
        assert np.array_equal(skchain.load(archive_path, trusted=trusted).predict(df), expected)
        rows = [
            (
                "joblib",
                pickle_path,
                lambda: joblib.load(pickle_path),
                f"joblib.load({str(pickle_path)!r})",
            ),
            (
                "skchain.save",
                archive_path,
                lambda: skchain.load(archive_path, trusted=trusted),
                f"skchain.load({str(archive_path)!r}, trusted={trusted!r})",
            ),
        ]
        print(
            f"{'format':14}{'size':>10}{'load (warm)':>14}"
            f"{'fresh process: load':>22}{'to 1st predict':>16}"
        )
        results, first_predict = {}, {}
        for name, path, load, code in rows:
            warm = best_of(load)
            cold, first = fresh_process(code, frame)
            results[name] = warm
            first_predict[name] = first - cold
            print(
                f"{name:14}{path.stat().st_size / 1024:>8.0f} KiB{warm * 1e3:>11.0f} ms"
                f"{cold * 1e3:>19.0f} ms{first * 1e3:>13.0f} ms"
            )
    print(f"skchain.load / joblib.load (warm): {results['skchain.save'] / results['joblib']:.2f}x")
    print("both formats reload to bit-identical predictions")
    for name, seconds in first_predict.items():
        report_target(TARGETS, FIRST_PREDICT_TARGETS[name], seconds * 1e3)


if __name__ == "__main__":
    main()
